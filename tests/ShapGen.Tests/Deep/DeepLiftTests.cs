using System;
using System.Linq;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Deep;

public sealed class DeepLiftTests
{
    // f(x) = w2 · relu(W1 x + b1) + b2, two inputs, three hidden units, one output.
    private static readonly double[,] W1 = { { 1.0, -2.0 }, { 0.5, 1.5 }, { -1.0, -0.5 } };
    private static readonly double[] B1 = { 0.25, -0.5, 0.1 };
    private static readonly double[] W2 = { 2.0, -1.0, 0.75 };
    private const double B2 = 0.3;

    private static nn.Module<Tensor, Tensor> Net()
    {
        var first = nn.Linear(2, 3, dtype: float64);
        var second = nn.Linear(3, 1, dtype: float64);
        using (no_grad())
        {
            first.weight!.copy_(tensor(W1));
            first.bias!.copy_(tensor(B1));
            second.weight!.copy_(tensor(new[,] { { W2[0], W2[1], W2[2] } }));
            second.bias!.copy_(tensor(new[] { B2 }));
        }
        var net = nn.Sequential(("first", first), ("relu", nn.ReLU()), ("second", second));
        net.eval();
        return net;
    }

    /// <summary>DeepLIFT's rescale rule written out: φ_i = Σ_h w2_h · m_h · W1_hi · (x_i − b_i), with
    /// m_h = Δrelu(z_h) / Δz_h, or relu'(z_h) when Δz_h = 0.</summary>
    private static double[] HandDeepLift(double[] x, double[] b)
    {
        var phi = new double[2];
        for (int h = 0; h < 3; h++)
        {
            double z = B1[h] + W1[h, 0] * x[0] + W1[h, 1] * x[1];
            double z0 = B1[h] + W1[h, 0] * b[0] + W1[h, 1] * b[1];
            double m = Math.Abs(z - z0) > 1e-12 ? (Math.Max(z, 0) - Math.Max(z0, 0)) / (z - z0) : (z > 0 ? 1 : 0);
            for (int i = 0; i < 2; i++)
                phi[i] += W2[h] * m * W1[h, i] * (x[i] - b[i]);
        }
        return phi;
    }

    private static double F(double[] x) =>
        B2 + Enumerable.Range(0, 3).Sum(h => W2[h] * Math.Max(0, B1[h] + W1[h, 0] * x[0] + W1[h, 1] * x[1]));

    [Fact]
    public void One_baseline_per_sample_matches_the_hand_derived_rescale_rule_and_completeness()
    {
        double[][] xs = { new[] { 1.0, 0.5 }, new[] { -0.7, 1.2 }, new[] { 2.0, -1.0 } };
        double[][] bs = { new[] { 0.0, 0.0 }, new[] { 0.5, -0.5 }, new[] { -1.0, 0.25 } };
        var model = ExplainableModel.Create(Net());
        using var x = tensor(xs.SelectMany(r => r).ToArray(), new long[] { 3, 2 }, float64);
        using var b = tensor(bs.SelectMany(r => r).ToArray(), new long[] { 3, 2 }, float64);
        using var result = new DeepLift(model).Explain(new[] { x }, new[] { b });
        for (int s = 0; s < 3; s++)
        {
            var phi = HandDeepLift(xs[s], bs[s]);
            for (int i = 0; i < 2; i++)
                Assert.Equal(phi[i], result[0, 0][s, i].item<double>(), 12);
            Assert.Equal(F(xs[s]) - F(bs[s]), phi[0] + phi[1], 12);  // the hand rule is complete, too
        }
        Assert.Equal(bs.Average(F), result.ExpectedValue(0), 12);
    }

    [Fact]
    public void A_shared_baseline_equals_the_same_baseline_given_per_sample()
    {
        var model = ExplainableModel.Create(Net());
        using var x = tensor(new double[,] { { 1.0, 0.5 }, { -0.7, 1.2 } });
        using var b = tensor(new double[] { 0.3, -0.2 });
        using var shared = new DeepLift(model).Explain(new[] { x }, new[] { b });
        using var perSample = new DeepLift(model).Explain(new[] { x }, new[] { b.expand(2, 2) });
        TensorAssert.Close(perSample[0, 0], shared[0, 0], rtol: 1e-13, atol: 1e-14);
        var phi = HandDeepLift(new[] { 1.0, 0.5 }, new[] { 0.3, -0.2 });
        Assert.Equal(phi[0], shared[0, 0][0, 0].item<double>(), 12);
    }

    [Fact]
    public void Bad_baselines_get_clear_errors()
    {
        var model = ExplainableModel.Create(Net());
        using var x = tensor(new double[,] { { 1.0, 0.5 }, { -0.7, 1.2 } });
        var e = Assert.Throws<ArgumentException>(() => new DeepLift(model, inputNames: new[] { "x" }).Explain(new[] { x }, new[] { zeros(3, 2, dtype: float64) }));
        Assert.Contains("'baselines' input 0 ('x') has shape [3, 2]; expected the per-sample shape [2], [1, 2] or [2, 2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new DeepLift(model).Explain(new[] { x }, new[] { zeros(2) }));
        Assert.Contains("'baselines' input 0 is Float32; the input is Float64", e.Message);
        e = Assert.Throws<ArgumentException>(() => new DeepLift(model).Explain(new[] { x }, new[] { full(2, double.PositiveInfinity, dtype: float64) }));
        Assert.Contains("contains NaN or infinite values", e.Message);
    }
}
