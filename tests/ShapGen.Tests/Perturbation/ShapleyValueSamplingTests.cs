using System;
using System.Linq;
using Xunit;
using static ShapGen.Tests.Perturbation.PerturbationTestModels;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

public sealed class ShapleyValueSamplingTests
{
    private const int M = 6;

    /// <summary>Exact Shapley values of <see cref="PerturbationTestModels.Six"/> by brute force over all 2^6 coalitions.</summary>
    private static double[,] Exact(double[] x, double[] b)
    {
        var value = new double[1 << M][];
        for (int c = 0; c < 1 << M; c++)
            value[c] = Six(Enumerable.Range(0, M).Select(f => (c >> f & 1) == 1 ? x[f] : b[f]).ToArray());
        var phi = new double[3, M];
        double Factorial(int k) => Enumerable.Range(1, k).Aggregate(1.0, (a, v) => a * v);
        for (int f = 0; f < M; f++)
            for (int c = 0; c < 1 << M; c++)
            {
                if ((c >> f & 1) == 1) continue;
                int size = System.Numerics.BitOperations.PopCount((uint)c);
                double weight = Factorial(size) * Factorial(M - size - 1) / Factorial(M);
                for (int o = 0; o < 3; o++) phi[o, f] += weight * (value[c | 1 << f][o] - value[c][o]);
            }
        return phi;
    }

    private static double RmsError(Explanation result, Tensor x, double[] b)
    {
        double sum = 0; int count = 0;
        for (int s = 0; s < x.shape[0]; s++)
        {
            var exact = Exact(Row(x, s), b);
            for (int o = 0; o < 3; o++)
            {
                var got = Row(result[o, 0], s);
                for (int f = 0; f < M; f++) { sum += Math.Pow(got[f] - exact[o, f], 2); count++; }
            }
        }
        return Math.Sqrt(sum / count);
    }

    [Fact]
    public void Converges_to_exact_shapley_values_at_about_one_over_root_n_with_exact_efficiency()
    {
        using var scope = NewDisposeScope();
        var model = SixModel();
        var x = randn(new long[] { 12, M }, float64, generator: new TorchSharp.torch.Generator(11));
        var b = new[] { 0.1, -0.2, 0.3, 0.0, 0.5, -0.4 };
        var baseline = new[] { tensor(b, float64) };
        Explanation Run(int n, long seed) =>
            new ShapleyValueSampling(model).Explain(new[] { x }, new ShapleyValueSamplingOptions { Baselines = baseline, NSamples = n, Seed = seed });
        // The RMS error over 12 samples × 3 outputs × 6 features, pooled over three seeds.
        double Error(int n) => Math.Sqrt(new long[] { 1, 2, 3 }.Average(seed =>
        {
            using var r = Run(n, seed);
            return Math.Pow(RmsError(r, x, b), 2);
        }));
        double e16 = Error(16), e256 = Error(256);
        // 16× the permutations: the error should shrink about 4×; accept 2.5×–6.5× for noise.
        Assert.InRange(e16 / e256, 2.5, 6.5);
        Assert.True(e256 < 0.04, $"error with 256 permutations is {e256}");

        using var small = Run(16, 5);
        using var large = Run(256, 5);
        var fb = Six(b);
        for (int s = 0; s < 12; s++)
        {
            var fx = Six(Row(x, s));
            for (int o = 0; o < 3; o++)
            {
                Assert.Equal(fx[o] - fb[o], Row(small[o, 0], s).Sum(), 1e-12);
                Assert.Equal(fx[o] - fb[o], Row(large[o, 0], s).Sum(), 1e-12);
            }
        }
        for (int o = 0; o < 3; o++) Assert.Equal(fb[o], small.ExpectedValue(o), 1e-12);
    }

    [Fact]
    public void Results_do_not_depend_on_the_batch_size_or_on_splitting_the_samples_over_calls()
    {
        using var scope = NewDisposeScope();
        var model = SixModel();
        var x = randn(new long[] { 8, M }, float64);
        ShapleyValueSamplingOptions Options(int? rows, long offset = 0) => new() { NSamples = 9, Seed = 42, MaxBatchRows = rows, SampleIndexOffset = offset, Antithetic = true };
        using var whole = new ShapleyValueSampling(model).Explain(new[] { x }, Options(null));
        using var small = new ShapleyValueSampling(model).Explain(new[] { x }, Options(7));
        using var head = new ShapleyValueSampling(model).Explain(new[] { x[..5] }, Options(3));
        using var tail = new ShapleyValueSampling(model).Explain(new[] { x[5..] }, Options(11, offset: 5));
        using var otherSeed = new ShapleyValueSampling(model).Explain(new[] { x }, new ShapleyValueSamplingOptions { NSamples = 9, Seed = 43 });
        for (int o = 0; o < 3; o++)
        {
            var expected = whole[o, 0].data<double>().ToArray();
            Assert.Equal(expected, small[o, 0].data<double>().ToArray());
            Assert.Equal(expected, cat(new[] { head[o, 0], tail[o, 0] }, 0).data<double>().ToArray());
            Assert.NotEqual(expected, otherSeed[o, 0].data<double>().ToArray());
        }
    }

    [Fact]
    public void A_linear_model_gets_exact_values_from_any_permutation_and_groups_share_their_value()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new[] { 1.0, -2.0, 0.5, 3.0 }, float64);
        var model = new ExplainableModel(x => x[0].matmul(w).unsqueeze(1) + 1.0, 1);
        var x = randn(new long[] { 3, 4 }, float64);
        var groups = new KernelFeatureGroups(3, new[] { 0, 2, 2, 1 });
        using var result = new ShapleyValueSampling(model).Explain(new[] { x },
            new ShapleyValueSamplingOptions { NSamples = 3, Baseline = 0.5, FeatureGroups = groups, Seed = 1 });
        for (int s = 0; s < 3; s++)
        {
            var v = Row(x, s);
            double Term(int e) => new[] { 1.0, -2.0, 0.5, 3.0 }[e] * (v[e] - 0.5);
            var got = Row(result[0, 0], s);
            Assert.Equal(Term(0), got[0], 1e-12);
            Assert.Equal(Term(3), got[3], 1e-12);
            Assert.Equal(Term(1) + Term(2), got[1], 1e-12); // a group's value, given in full to each of its elements (Captum)
            Assert.Equal(got[1], got[2]);
        }
    }
}
