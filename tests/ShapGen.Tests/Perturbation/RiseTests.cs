using System;
using System.Linq;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

public sealed class RiseTests
{
    /// <summary>Two outputs of a 6×6 one-channel image: a nonlinear one and a sum.</summary>
    private static ExplainableModel Nonlinear() => new(x =>
    {
        var flat = x[0].reshape(x[0].shape[0], -1);
        return stack(new[] { tanh(flat.sum(1)) * flat[.., 7], flat.pow(2).sum(1) }, 1);
    }, 1);

    [Fact]
    public void With_p_keep_1_every_mask_is_all_ones_and_every_pixel_gets_f_of_x()
    {
        using var scope = NewDisposeScope();
        var x = rand(new long[] { 2, 1, 6, 6 }, float64, generator: new TorchSharp.torch.Generator(3));
        using var result = new Rise(Nonlinear()).Explain(new[] { x }, new RiseOptions { PKeep = 1, NMasks = 5, FeatureRes = 3, Seed = 1 });
        var fx = Nonlinear().Forward(new[] { x });
        for (int k = 0; k < 2; k++)
            for (int s = 0; s < 2; s++)
            {
                double expected = fx[s, k].item<double>();
                foreach (double v in result[k, 0][s].data<double>().ToArray()) Assert.Equal(expected, v, 1e-9);
            }
    }

    [Fact]
    public void Interpolation_matches_skimage_resize_order_1_mirrored_at_the_edges_by_hand()
    {
        // Two grid cells to six pixels: source coordinates −1/3 (mirrored to 1/3), 0, 1/3, 2/3, 1, 4/3 (mirrored to 2/3).
        var expected = new[,] { { 2 / 3.0, 1 / 3.0 }, { 1, 0 }, { 2 / 3.0, 1 / 3.0 }, { 1 / 3.0, 2 / 3.0 }, { 0, 1 }, { 1 / 3.0, 2 / 3.0 } };
        using var weights = RiseMasks.Interpolation(2, 6, CPU);
        for (int o = 0; o < 6; o++)
            for (int a = 0; a < 2; a++)
                Assert.Equal(expected[o, a], weights[o, a].item<double>(), 1e-12);
    }

    /// <summary>
    /// For f(x) = c + w·x with baseline 0, E[f(x⊙M)·M_p]/p = c + Σ_j w_j x_j (p + (1 − p)·mean over shifts of ⟨u_j, u_p⟩),
    /// where u_p is pixel p's bilinear weights over the grid cells (cells are independent Bernoulli(p)).
    /// </summary>
    [Fact]
    public void A_linear_model_converges_to_the_closed_form_expectation()
    {
        using var scope = NewDisposeScope();
        const int size = 6, res = 3, cell = 2, up = (res + 1) * cell, masks = 100000;
        const double p = 0.25, c = 0.5;
        var w = new double[size * size];
        w[14] = 3; // one pixel: the map is c + 3·x₁₄·(p + (1 − p)·overlap with pixel 14), which the shifts and the bilinear weights shape
        var xs = Enumerable.Range(0, size * size).Select(i => 0.5 + 0.5 * Math.Sin(i)).ToArray();
        var wt = tensor(w, float64);
        var model = new ExplainableModel(x => (x[0].reshape(x[0].shape[0], -1).matmul(wt) + c).unsqueeze(1), 1);
        var x = tensor(xs, new long[] { 1, 1, size, size }, float64);
        using var result = new Rise(model).Explain(new[] { x }, new RiseOptions { PKeep = p, NMasks = masks, FeatureRes = res, Seed = 5 });
        var map = result[0, 0].reshape(-1).data<double>().ToArray();

        // skimage's order-1 resize of 3 cells to 8 pixels, pixel centres, mirrored about the edge pixels' centres.
        var interp = new double[up, res];
        for (int o = 0; o < up; o++)
        {
            double s = (o + 0.5) * res / up - 0.5;
            if (s < 0) s = -s;
            if (s > res - 1) s = 2 * (res - 1) - s;
            int i0 = (int)Math.Floor(s);
            interp[o, i0] += 1 - (s - i0);
            if (s > i0) interp[o, i0 + 1] += s - i0;
        }
        double Overlap(int j, int q)
        {
            double sum = 0;
            for (int dy = 0; dy < cell; dy++)
                for (int dx = 0; dx < cell; dx++)
                    for (int a = 0; a < res; a++)
                        for (int b = 0; b < res; b++)
                            sum += interp[dy + j / size, a] * interp[dx + j % size, b] * interp[dy + q / size, a] * interp[dx + q % size, b];
            return sum / (cell * cell);
        }
        double bound = c + w.Select((v, j) => Math.Abs(v * xs[j])).Sum();
        double tolerance = 4 * bound / Math.Sqrt(p * masks); // 4σ: Var(f·M_p) ≤ bound²·E[M_p²] ≤ bound²·p
        for (int q = 0; q < size * size; q++)
        {
            double expected = c + Enumerable.Range(0, size * size).Sum(j => w[j] * xs[j] * (p + (1 - p) * Overlap(j, q)));
            Assert.True(Math.Abs(map[q] - expected) < tolerance, $"pixel {q}: RISE {map[q]:F4}, closed form {expected:F4}, tolerance {tolerance:F4}");
        }
    }

    [Fact]
    public void Results_are_reproducible_and_independent_of_batch_size_and_of_splitting_samples()
    {
        using var scope = NewDisposeScope();
        var x = rand(new long[] { 2, 6, 6, 1 }, float64, generator: new TorchSharp.torch.Generator(4));
        var options = new RiseOptions { NMasks = 40, FeatureRes = 2, PKeep = 0.4, Seed = 9, Layout = ImageLayout.ChannelsLast };
        using var whole = new Rise(Nonlinear()).Explain(new[] { x }, options);
        using var small = new Rise(Nonlinear()).Explain(new[] { x }, new RiseOptions(options) { MaxBatchRows = 7 });
        using var second = new Rise(Nonlinear()).Explain(new[] { x.narrow(0, 1, 1) }, new RiseOptions(options) { SampleIndexOffset = 1 });
        using var other = new Rise(Nonlinear()).Explain(new[] { x }, new RiseOptions(options) { Seed = 10 });
        for (int k = 0; k < 2; k++)
        {
            Assert.True(whole[k, 0].equal(small[k, 0]).all().item<bool>(), "batch size changed the result");
            Assert.True(whole[k, 0].narrow(0, 1, 1).equal(second[k, 0]).all().item<bool>(), "splitting the samples over calls changed the result");
        }
        Assert.False(whole[0, 0].equal(other[0, 0]).all().item<bool>(), "another seed gave the same masks");
    }

    [Fact]
    public void Estimated_p_keep_follows_diannas_rule_on_a_model_whose_spread_peaks_at_a_known_p()
    {
        // f = 1 when more than 60 % of an all-ones image shows through. The mask's mean concentrates around p (100 cells),
        // so f is 1 about half the time at p = 0.6 (spread ≈ 0.5) and almost never or almost always at 0.5 and 0.7.
        using var scope = NewDisposeScope();
        var model = new ExplainableModel(x => x[0].reshape(x[0].shape[0], -1).mean(new long[] { 1 }).gt(0.6).to_type(float64).unsqueeze(1), 1);
        var x = ones(new long[] { 1, 1, 20, 20 }, float64);
        var options = new RiseOptions { NMasks = 10, FeatureRes = 10, Seed = 2 };
        using var estimated = new Rise(model).Explain(new[] { x }, options);
        using var expected = new Rise(model).Explain(new[] { x }, new RiseOptions(options) { PKeep = 0.6 });
        Assert.True(estimated[0, 0].equal(expected[0, 0]).all().item<bool>(), "the estimated p_keep is not 0.6");
    }

    [Fact]
    public void Bad_inputs_and_options_are_named()
    {
        using var scope = NewDisposeScope();
        var two = new ExplainableModel(x => x[0].sum(1, keepdim: true) + x[1].sum(1, keepdim: true), 2);
        var e = Assert.Throws<ArgumentException>(() => new Rise(two).Explain(new[] { ones(1, 3, dtype: float64), ones(1, 3, dtype: float64) }));
        Assert.Contains("one-input image models", e.Message);
        var flat = new ExplainableModel(x => x[0].sum(1, keepdim: true), 1);
        e = Assert.Throws<ArgumentException>(() => new Rise(flat).Explain(new[] { ones(1, 3, dtype: float64) }));
        Assert.Contains("samples are [3]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RiseOptions { PKeep = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new RiseOptions { PKeep = 1.5 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new RiseOptions { NMasks = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new RiseOptions { FeatureRes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new RiseOptions { Layout = (ImageLayout)7 });
    }
}
