using System;
using System.Linq;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

/// <summary>Small float64 models as plain delegates, and a plain host-side way to call them one row at a time.</summary>
internal static class PerturbationTestModels
{
    /// <summary>
    /// Two inputs, [N, 3, 5] and [N, 4], three nonlinear outputs with interactions between and within the inputs.
    /// </summary>
    public static ExplainableModel TwoInputs()
    {
        var gen = new TorchSharp.torch.Generator(7);
        var w1 = randn(new long[] { 15, 3 }, float64, generator: gen);
        var w2 = randn(new long[] { 4, 3 }, float64, generator: gen);
        return new ExplainableModel(x =>
        {
            var a = x[0].reshape(x[0].shape[0], -1).matmul(w1);
            var b = x[1].matmul(w2);
            return tanh(a) * b + (a * a).sin() + x[0][.., 0, 0].unsqueeze(1) * x[1][.., 3].unsqueeze(1);
        }, 2);
    }

    /// <summary>Six features, three outputs, with products of features and saturating terms (Shapley values not trivial).</summary>
    public static double[] Six(double[] x) => new[]
    {
        x[0] * x[1] + Math.Tanh(x[2] - x[3]) + x[4] * x[4] * x[5],
        Math.Max(x[0] + x[2] + x[4], 0) - x[1] * x[3] * x[5],
        Math.Sin(x[0] * x[5]) + 0.5 * x[1] + x[2] * x[3] * x[4],
    };

    /// <summary><see cref="Six"/> as a batched model.</summary>
    public static ExplainableModel SixModel() => new(x =>
    {
        var v = x[0];
        Tensor c(int i) => v[.., i];
        return stack(new[]
        {
            c(0) * c(1) + tanh(c(2) - c(3)) + c(4) * c(4) * c(5),
            (c(0) + c(2) + c(4)).relu() - c(1) * c(3) * c(5),
            sin(c(0) * c(5)) + 0.5 * c(1) + c(2) * c(3) * c(4),
        }, 1);
    }, 1);

    /// <summary>Runs the model on one row per input (given as flat host arrays and per-sample shapes); returns its outputs.</summary>
    public static double[] CallOnce(ExplainableModel model, double[][] row, long[][] shapes)
    {
        using var scope = NewDisposeScope();
        var inputs = row.Select((r, i) => tensor(r, new[] { 1L }.Concat(shapes[i]).ToArray(), float64)).ToArray();
        return model.Forward(inputs).reshape(-1).data<double>().ToArray();
    }

    /// <summary>Row <paramref name="s"/> of a batched tensor as a flat host array.</summary>
    public static double[] Row(Tensor t, long s) => t[s].reshape(-1).to_type(float64).data<double>().ToArray();
}
