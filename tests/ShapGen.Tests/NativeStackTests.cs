using System;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests;

public sealed class NativeStackTests
{
    [Fact]
    public void Autograd_gradient_matches_central_difference()
    {
        // f(x) = sum(sin(x) * x^2); df/dx = cos(x) x^2 + 2 x sin(x)
        using var scope = NewDisposeScope();
        var x = tensor(new double[] { -1.3, 0.2, 0.7, 2.5 }, dtype: float64).requires_grad_();
        Tensor f(Tensor v) => (sin(v) * v * v).sum();
        var grad = autograd.grad(new[] { f(x) }, new[] { x })[0].data<double>().ToArray();
        var values = x.detach().data<double>().ToArray();
        const double h = 1e-6;
        for (int i = 0; i < values.Length; i++)
        {
            var plus = (double[])values.Clone(); plus[i] += h;
            var minus = (double[])values.Clone(); minus[i] -= h;
            double numeric = (f(tensor(plus)).item<double>() - f(tensor(minus)).item<double>()) / (2 * h);
            double analytic = Math.Cos(values[i]) * values[i] * values[i] + 2 * values[i] * Math.Sin(values[i]);
            Assert.Equal(analytic, grad[i], 9);
            Assert.Equal(numeric, grad[i], 6);
        }
    }

    [Fact]
    public void Linear_layer_runs_forward_and_backward()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        var layer = nn.Linear(3, 2);
        var input = ones(4, 3);
        var output = layer.call(input).sum();
        output.backward();
        // d(sum(W x + b))/dW = number of rows for every weight.
        Assert.True(layer.weight!.grad!.allclose(full(2, 3, 4f)));
    }

    [CudaFact]
    public void Cuda_tensor_round_trips()
    {
        using var scope = NewDisposeScope();
        var x = arange(10, dtype: float32).to(CUDA);
        Assert.Equal(45f, (x.sum()).cpu().item<float>());
    }
}
