using System;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

public sealed class LayerIntegratedGradientsTests
{
    private static readonly double[,] W = { { 1.0, -1.0, 0.5 }, { 2.0, 0.25, -1.5 } };
    private static readonly double[] B = { 0.2, -0.1 };
    private static readonly double[,] A = { { 1.5, -0.5 } };

    /// <summary>x → body: z = W x + B (known) → head: f = Σ A z², so integrated gradients in z-space is A(z_x² − z_b²).</summary>
    private sealed class LinearThenSquares : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> body;
        private readonly nn.Module<Tensor, Tensor> head;

        public LinearThenSquares() : base(nameof(LinearThenSquares))
        {
            body = new KnownLinear(W, B);
            head = new PowerSum(A, 2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => head.call(body.call(x));
    }

    private static double[,] Z(double[,] x)
    {
        int n = x.GetLength(0);
        var z = new double[n, 2];
        for (int s = 0; s < n; s++)
            for (int h = 0; h < 2; h++)
            {
                z[s, h] = B[h];
                for (int i = 0; i < 3; i++) z[s, h] += W[h, i] * x[s, i];
            }
        return z;
    }

    [Theory]
    [InlineData("body", false)]
    [InlineData("head", true)]
    public void Layer_ig_of_a_layer_that_is_a_known_linear_function_of_the_input_is_analytic(string layer, bool toInput)
    {
        var model = ExplainableModel.Create(new LinearThenSquares());
        double[,] xs = { { 1, 2, -1 }, { 0.5, -0.5, 3 } };
        double[,] bs = { { 0.1, 0.2, 0.3 }, { -1, 0, 1 } };
        using var x = tensor(xs);
        using var b = tensor(bs);
        using var lig = new LayerIntegratedGradients(model, layer, attributeToLayerInput: toInput);
        using var result = lig.Explain(new[] { x }, new[] { b }, new IntegratedGradientsOptions { NSteps = 3 }, out var delta);
        using (delta)
        {
            var zx = Z(xs);
            var zb = Z(bs);
            var expected = new double[2, 2];
            for (int s = 0; s < 2; s++)
                for (int h = 0; h < 2; h++)
                    expected[s, h] = A[0, h] * (zx[s, h] * zx[s, h] - zb[s, h] * zb[s, h]);
            using var e = tensor(expected);
            Assert.Equal(1, result.InputCount);
            TensorAssert.Close(e, result[0, 0], rtol: 1e-12, atol: 1e-12);
            TensorAssert.Close(zeros(2, 1, dtype: float64), delta, rtol: 0, atol: 1e-12, what: "delta");
        }
    }

    [Fact]
    public void Batch_size_does_not_change_layer_attributions_and_bad_layers_are_named()
    {
        var model = ExplainableModel.Create(new LinearThenSquares());
        using var x = randn(4, 3, dtype: float64);
        using var lig = new LayerIntegratedGradients(model, "body");
        using var whole = lig.Explain(new[] { x }, null, new IntegratedGradientsOptions { NSteps = 5, Method = IntegrationMethod.RiemannLeft });
        using var split = lig.Explain(new[] { x }, null, new IntegratedGradientsOptions { NSteps = 5, Method = IntegrationMethod.RiemannLeft, MaxBatchRows = 3 });
        TensorAssert.Close(whole[0, 0], split[0, 0], rtol: 1e-13, atol: 1e-14);
        var e = Assert.Throws<ArgumentException>(() => new LayerIntegratedGradients(model, "nope"));
        Assert.Contains("no submodule 'nope'", e.Message);
        var tunnel = Assert.Throws<ArgumentException>(() => lig.Explain(new[] { x }, null,
            new IntegratedGradientsOptions { NoiseTunnel = new NoiseTunnelOptions() }));
        Assert.Contains("noise tunnel is not supported by layer methods", tunnel.Message);
    }
}
