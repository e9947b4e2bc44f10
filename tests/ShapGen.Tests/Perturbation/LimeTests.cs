using System;
using System.Linq;
using Xunit;
using static ShapGen.Tests.Perturbation.PerturbationTestModels;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

public sealed class LimeTests
{
    private static readonly long[][] SixShape = { new long[] { 6 } };

    /// <summary>
    /// Weighted ridge with intercept written plainly: normal equations of [1, z] with the penalty on every column but the
    /// first, solved by Gauss–Jordan. Returns (intercept, coefficients).
    /// </summary>
    private static (double Intercept, double[] Coef) HandRidge(double[][] z, double[] y, double[] w, double alpha)
    {
        int p = z[0].Length + 1;
        var a = new double[p, p + 1];
        for (int r = 0; r < z.Length; r++)
        {
            var row = new[] { 1.0 }.Concat(z[r]).ToArray();
            for (int i = 0; i < p; i++)
            {
                for (int j = 0; j < p; j++) a[i, j] += w[r] * row[i] * row[j];
                a[i, p] += w[r] * row[i] * y[r];
            }
        }
        for (int i = 1; i < p; i++) a[i, i] += alpha;
        for (int c = 0; c < p; c++)
        {
            int pivot = Enumerable.Range(c, p - c).OrderByDescending(r => Math.Abs(a[r, c])).First();
            for (int j = 0; j <= p; j++) (a[c, j], a[pivot, j]) = (a[pivot, j], a[c, j]);
            for (int r = 0; r < p; r++)
            {
                if (r == c) continue;
                double f = a[r, c] / a[c, c];
                for (int j = 0; j <= p; j++) a[r, j] -= f * a[c, j];
            }
        }
        var solution = Enumerable.Range(0, p).Select(i => a[i, p] / a[i, i]).ToArray();
        return (solution[0], solution.Skip(1).ToArray());
    }

    private static double HandScore(double[][] z, double[] y, double[] w, double intercept, double[] coef)
    {
        double mean = z.Select((_, r) => w[r] * y[r]).Sum() / w.Sum();
        double residual = 0, total = 0;
        for (int r = 0; r < z.Length; r++)
        {
            double prediction = intercept + z[r].Zip(coef, (a, b) => a * b).Sum();
            residual += w[r] * Math.Pow(y[r] - prediction, 2);
            total += w[r] * Math.Pow(y[r] - mean, 2);
        }
        return 1 - residual / total;
    }

    /// <summary>The model's output at every sampled row (hidden features at the baseline 0), lime's weights, and the rows as 0/1.</summary>
    private static (double[][] Z, double[][] Y, double[] W) Neighbourhood(LimeLocalModels models, double[] x, double width)
    {
        var rows = models.Rows(0);
        int n = rows.GetLength(0), m = rows.GetLength(1);
        var z = Enumerable.Range(0, n).Select(r => Enumerable.Range(0, m).Select(f => rows[r, f] ? 1.0 : 0.0).ToArray()).ToArray();
        var y = z.Select(row => CallOnce(SixModel(), new[] { row.Zip(x, (keep, v) => keep * v).ToArray() }, SixShape)).ToArray();
        var w = z.Select(row =>
        {
            double dot = row.Sum(), norm = Math.Sqrt(row.Sum()) * Math.Sqrt(m); // cosine to the all-ones row
            double d = norm == 0 ? 1 : 1 - dot / norm;
            return Math.Sqrt(Math.Exp(-d * d / (width * width)));
        }).ToArray();
        return (z, y, w);
    }

    [Fact]
    public void The_local_models_equal_a_hand_computed_weighted_ridge_with_intercept()
    {
        using var scope = NewDisposeScope();
        var x = new[] { 0.9, -1.2, 0.4, 1.5, -0.7, 1.1 };
        var options = new LimeOptions { NumSamples = 60, Seed = 3 };
        var lime = new Lime(SixModel());
        var models = lime.ExplainLocalModels(new[] { tensor(x, new long[] { 1, 6 }, float64) }, options);
        using var explanation = lime.Explain(new[] { tensor(x, new long[] { 1, 6 }, float64) }, options);
        var (z, y, w) = Neighbourhood(models, x, 0.25);
        Assert.True(z[0].All(v => v == 1), "lime's first row is the explained sample");
        for (int o = 0; o < 3; o++)
        {
            var target = y.Select(v => v[o]).ToArray();
            var (intercept, coef) = HandRidge(z, target, w, 1.0);
            Assert.Equal(intercept, models.Intercept(0, o), 1e-9);
            var got = models.Coefficients(0, o);
            for (int f = 0; f < 6; f++) Assert.Equal(coef[f], got[f], 1e-9);
            Assert.Equal(HandScore(z, target, w, intercept, coef), models.Score(0, o), 1e-9);
            Assert.Equal(intercept + coef.Sum(), models.LocalPrediction(0, o), 1e-9);
            var map = explanation[o, 0].reshape(-1).data<double>().ToArray();
            for (int f = 0; f < 6; f++) Assert.Equal(coef[f], map[f], 1e-9);
            var top = models.TopFeatures(0, o, 3);
            Assert.Equal(coef.Select((c, f) => (f, c)).OrderByDescending(p => Math.Abs(p.c)).Take(3).Select(p => p.f), top.Select(t => t.Feature));
        }
    }

    [Fact]
    public void NumFeatures_up_to_six_selects_forward_as_lime_auto_and_refits_on_the_selection()
    {
        using var scope = NewDisposeScope();
        var x = new[] { 0.9, -1.2, 0.4, 1.5, -0.7, 1.1 };
        var models = new Lime(SixModel()).ExplainLocalModels(new[] { tensor(x, new long[] { 1, 6 }, float64) },
            new LimeOptions { NumSamples = 80, Seed = 4, NumFeatures = 2 });
        var (z, y, w) = Neighbourhood(models, x, 0.25);
        for (int o = 0; o < 3; o++)
        {
            var target = y.Select(v => v[o]).ToArray();
            double[][] Pick(int[] f) => z.Select(row => f.Select(j => row[j]).ToArray()).ToArray();
            var chosen = new int[0];
            for (int step = 0; step < 2; step++)
                chosen = Enumerable.Range(0, 6).Where(f => !chosen.Contains(f)).Select(f => chosen.Append(f).ToArray())
                    .OrderByDescending(c => { var (b, a) = HandRidge(Pick(c), target, w, 0); return HandScore(Pick(c), target, w, b, a); }).First();
            var (intercept, coef) = HandRidge(Pick(chosen), target, w, 1.0);
            var got = models.Coefficients(0, o);
            Assert.Equal(4, got.Count(v => v == 0));
            for (int j = 0; j < 2; j++) Assert.Equal(coef[j], got[chosen[j]], 1e-9);
            Assert.Equal(intercept, models.Intercept(0, o), 1e-9);
        }
    }

    [Fact]
    public void Results_are_reproducible_and_independent_of_batch_size()
    {
        using var scope = NewDisposeScope();
        var x = randn(new long[] { 3, 6 }, float64, generator: new TorchSharp.torch.Generator(2));
        var options = new LimeOptions { NumSamples = 30, Seed = 8 };
        using var whole = new Lime(SixModel()).Explain(new[] { x }, options);
        using var small = new Lime(SixModel()).Explain(new[] { x }, new LimeOptions(options) { MaxBatchRows = 5 });
        using var last = new Lime(SixModel()).Explain(new[] { x.narrow(0, 2, 1) }, new LimeOptions(options) { SampleIndexOffset = 2 });
        using var other = new Lime(SixModel()).Explain(new[] { x }, new LimeOptions(options) { Seed = 9 });
        Assert.True(whole[1, 0].equal(small[1, 0]).all().item<bool>());
        Assert.True(whole[1, 0].narrow(0, 2, 1).equal(last[1, 0]).all().item<bool>());
        Assert.False(whole[1, 0].equal(other[1, 0]).all().item<bool>());
    }

    [Fact]
    public void Bad_options_are_named()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => new LimeOptions { NumSamples = 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new LimeOptions { KernelWidth = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new LimeOptions { KernelWidth = double.PositiveInfinity });
        Assert.Throws<ArgumentOutOfRangeException>(() => new LimeOptions { NumFeatures = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new LimeOptions { Alpha = -1 });
        var e = Assert.Throws<ArgumentException>(() => new Lime(SixModel()).Explain(new[] { ones(1, 6, dtype: float64) },
            new LimeOptions { FeatureGroups = KernelFeatureGroups.PerElement(new[] { new long[] { 5 } }) }));
        Assert.Contains("one sample of it has 6", e.Message);
        var models = new Lime(SixModel()).ExplainLocalModels(new[] { ones(1, 6, dtype: float64) }, new LimeOptions { NumSamples = 10, Seed = 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => models.Intercept(0, 3));
    }
}
