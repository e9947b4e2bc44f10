using System;
using System.Linq;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

public sealed class SaliencyAndNoiseTunnelTests
{
    private static readonly double[,] Points = { { 0.3, -1.2 }, { -2.0, 0.7 }, { 1.1, 2.5 } };

    /// <summary>The hand-derived gradients of <see cref="TwoByTwo"/>: [output][sample, input].</summary>
    private static double[][,] HandGradients()
    {
        int n = Points.GetLength(0);
        var g = new[] { new double[n, 2], new double[n, 2] };
        for (int s = 0; s < n; s++)
        {
            double x0 = Points[s, 0], x1 = Points[s, 1];
            g[0][s, 0] = Math.Cos(x0) * x1;
            g[0][s, 1] = Math.Sin(x0);
            g[1][s, 0] = 2 * x0;
            g[1][s, 1] = 3;
        }
        return g;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Saliency_is_the_hand_computed_gradient(bool abs)
    {
        var model = ExplainableModel.Create(new TwoByTwo());
        using var x = tensor(Points);
        using var result = new Saliency(model).Explain(new[] { x }, new SaliencyOptions { Abs = abs });
        var hand = HandGradients();
        for (int o = 0; o < 2; o++)
        {
            using var e = tensor(hand[o]);
            using var expected = abs ? e.abs() : e.alias();
            TensorAssert.Close(expected, result[o, 0], rtol: 1e-14, atol: 1e-14, what: $"output {o}");
        }
        // f(0) = [0, 0].
        Assert.Equal(0.0, result.ExpectedValue(1));
    }

    [Fact]
    public void Input_x_gradient_is_the_input_times_the_hand_computed_gradient()
    {
        var model = ExplainableModel.Create(new TwoByTwo());
        using var x = tensor(Points);
        using var result = new InputXGradient(model).Explain(new[] { x });
        var hand = HandGradients();
        for (int o = 0; o < 2; o++)
        {
            using var expected = tensor(hand[o]) * x;
            TensorAssert.Close(expected, result[o, 0], rtol: 1e-14, atol: 1e-14, what: $"output {o}");
        }
    }

    [Theory]
    [InlineData(NoiseTunnelType.SmoothGrad)]
    [InlineData(NoiseTunnelType.SmoothGradSq)]
    [InlineData(NoiseTunnelType.VarGrad)]
    public void Zero_noise_equals_the_plain_method_bitwise(NoiseTunnelType type)
    {
        var model = ExplainableModel.Create(new SmallMlp(4, 5, 3));
        using var x = randn(6, 4, dtype: float64);
        var noise = new NoiseTunnelOptions { Type = type, NSamples = 7, Stdevs = new[] { 0.0 } };
        var ig = new IntegratedGradients(model);
        using var plain = ig.Explain(new[] { x }, null, new IntegratedGradientsOptions { NSteps = 4 });
        using var tunnelled = ig.Explain(new[] { x }, null, new IntegratedGradientsOptions { NSteps = 4, NoiseTunnel = noise, MaxBatchRows = 10 });
        var saliency = new Saliency(model);
        using var plainSaliency = saliency.Explain(new[] { x }, new SaliencyOptions { Abs = false });
        using var tunnelledSaliency = saliency.Explain(new[] { x }, new SaliencyOptions { Abs = false, NoiseTunnel = noise });
        for (int o = 0; o < 3; o++)
        {
            foreach (var (p, t) in new[] { (plain[o, 0], tunnelled[o, 0]), (plainSaliency[o, 0], tunnelledSaliency[o, 0]) })
            {
                using var expected = type switch
                {
                    NoiseTunnelType.SmoothGrad => p.alias(),
                    NoiseTunnelType.SmoothGradSq => p.square(),
                    _ => zeros_like(p),
                };
                TensorAssert.Equal(expected, t, $"{type} output {o}");
            }
        }
    }

    [Fact]
    public void VarGrad_of_a_linear_model_is_zero()
    {
        var model = ExplainableModel.Create(new KnownLinear(new double[,] { { 1, -2, 3 } }, new[] { 0.5 }));
        using var x = randn(4, 3, dtype: float64);
        using var result = new Saliency(model).Explain(new[] { x }, new SaliencyOptions
        {
            Abs = false, Seed = 1, NoiseTunnel = new NoiseTunnelOptions { Type = NoiseTunnelType.VarGrad, NSamples = 9, Stdevs = new[] { 0.5 } },
        });
        using var expected = zeros(4, 3, dtype: float64);
        TensorAssert.Close(expected, result[0, 0], rtol: 0, atol: 1e-15);
    }

    [Fact]
    public void Noise_tunnel_statistics_match_the_closed_forms_with_one_stdev_per_input()
    {
        // Saliency of f(u, v) = a Σu² + c Σv² is 2a·ũ and 2c·ṽ with ũ = u + N(0, σu²): SmoothGrad → 2a·u,
        // SmoothGrad² → 4a²(u² + σu²), VarGrad → 4a²σu² (and exactly 0 for the input without noise).
        const double a = 1.5, c = -0.5, sigmaU = 0.0, sigmaV = 0.2;
        const int copies = 4000;
        var model = ExplainableModel.Create(new TwoInputSquares(a, c));
        using var u = tensor(new double[,] { { 0.5, -1 } });
        using var v = tensor(new double[,] { { 2, 0.25, -0.75 } });
        Explanation Run(NoiseTunnelType type) => new Saliency(model).Explain(new[] { u, v }, new SaliencyOptions
        {
            Abs = false, Seed = 42,
            NoiseTunnel = new NoiseTunnelOptions { Type = type, NSamples = copies, Stdevs = new[] { sigmaU, sigmaV } },
        });
        using var smooth = Run(NoiseTunnelType.SmoothGrad);
        using var squared = Run(NoiseTunnelType.SmoothGradSq);
        using var variance = Run(NoiseTunnelType.VarGrad);
        TensorAssert.Close(u * (2 * a), smooth[0, 0], rtol: 1e-14, atol: 1e-14, what: "no noise on u");
        TensorAssert.Close(zeros_like(u), variance[0, 0], rtol: 0, atol: 0, what: "VarGrad of u");
        double standardError = 2 * Math.Abs(c) * sigmaV / Math.Sqrt(copies);
        TensorAssert.Close(v * (2 * c), smooth[0, 1], rtol: 0, atol: 5 * standardError, what: "SmoothGrad of v");
        double var = 4 * c * c * sigmaV * sigmaV;
        TensorAssert.Close(full_like(v, var), variance[0, 1], rtol: 0.1, atol: 0, what: "VarGrad of v");
        TensorAssert.Close(v.square() * (4 * c * c) + var, squared[0, 1], rtol: 0.02, atol: 0, what: "SmoothGrad² of v");
        // The three aggregations come from the same draws: VarGrad = SmoothGrad² − SmoothGrad².
        TensorAssert.Close(squared[0, 1] - smooth[0, 1].square(), variance[0, 1], rtol: 1e-9, atol: 1e-12, what: "identity");
    }

    [Fact]
    public void Noise_tunnel_results_do_not_depend_on_the_batch_size_and_follow_the_seed()
    {
        var model = ExplainableModel.Create(new SmallMlp(4, 5, 2));
        using var x = randn(3, 4, dtype: float64);
        Tensor Run(int? rows, long seed, long offset = 0, Tensor? only = null)
        {
            using var r = new IntegratedGradients(model).Explain(new[] { only ?? x }, null, new IntegratedGradientsOptions
            {
                NSteps = 3, MaxBatchRows = rows, Seed = seed, SampleIndexOffset = offset,
                NoiseTunnel = new NoiseTunnelOptions { Type = NoiseTunnelType.VarGrad, NSamples = 5, Stdevs = new[] { 0.3 } },
            });
            return stack(new[] { r[0, 0], r[1, 0] }, 0).DetachFromDisposeScope();
        }
        using var whole = Run(null, 7);
        foreach (int rows in new[] { 1, 2, 7, 16 })
        {
            using var split = Run(rows, 7);
            TensorAssert.Close(whole, split, rtol: 1e-10, atol: 1e-14, what: $"MaxBatchRows = {rows}");
        }
        using var lastAlone = Run(null, 7, offset: 2, only: x.narrow(0, 2, 1));
        TensorAssert.Close(whole.narrow(1, 2, 1), lastAlone, rtol: 1e-10, atol: 1e-14, what: "SampleIndexOffset");
        using var otherSeed = Run(null, 8);
        Assert.False(whole.allclose(otherSeed), "another seed gives other draws");
    }
}
