using System;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

public sealed class GradientExplainerTests
{
    private static readonly double[,] W = { { 1.5, -2.0, 0.5, 3.0 }, { -1.0, 0.25, 2.0, -0.75 }, { 0.0, 1.0, -1.0, 4.0 } };
    private static readonly double[] B = { 0.1, -0.2, 0.3 };

    private static double[] Row(Tensor t, long row) => t[row].flatten().data<double>().ToArray();

    [Fact]
    public void Linear_model_with_one_background_row_gives_w_times_delta_exactly()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new KnownLinear(W, B));
        var background = tensor(new[] { 0.5, -1.0, 2.0, 0.0 }, dtype: float64).view(1, 4);
        var x = tensor(new[] { 1.0, 2.0, -3.0, 0.5, 0.0, 0.0, 1.0, -1.0 }, dtype: float64).view(2, 4);
        using var explainer = new GradientExplainer(model, new[] { background });
        using var result = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 7, NSamples = 50, ReturnVariances = true });
        Assert.Equal(3, result.OutputCount);
        var r = background.data<double>().ToArray();
        for (int o = 0; o < 3; o++)
            for (long n = 0; n < 2; n++)
            {
                var phi = Row(result[o, 0], n);
                var xs = Row(x, n);
                for (int f = 0; f < 4; f++)
                    Assert.Equal(W[o, f] * (xs[f] - r[f]), phi[f], 12);
                Assert.All(Row(result.Variance(o, 0), n), v => Assert.True(Math.Abs(v) < 1e-20));
            }
        // E[f(background)] = W r + b.
        var expected = explainer.ExpectedValues.data<double>().ToArray();
        for (int o = 0; o < 3; o++)
            Assert.Equal(Enumerable.Range(0, 4).Sum(f => W[o, f] * r[f]) + B[o], expected[o], 12);
    }

    private static (double RmsError, double MaxRatio) CompletenessError(GradientExplainer explainer, ExplainableModel model,
                                                                        Tensor x, int nsamples, long seed)
    {
        using var scope = NewDisposeScope();
        using var result = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = seed, NSamples = nsamples, ReturnVariances = true });
        Tensor fx;
        using (no_grad()) fx = model.Forward(x);
        double sumSq = 0, maxRatio = 0; int count = 0;
        for (int o = 0; o < result.OutputCount; o++)
        {
            var total = result[o, 0].sum(1);
            var gap = fx.select(1, o) - explainer.ExpectedValues[o];
            var error = (total - gap).data<double>().ToArray();
            // Var(Σφ) ≤ (Σ sd)²: a bound on the standard error of the sum from the returned variances.
            var bound = result.Variance(o, 0).sqrt().sum(1).data<double>().ToArray();
            for (int n = 0; n < error.Length; n++)
            {
                sumSq += error[n] * error[n]; count++;
                maxRatio = Math.Max(maxRatio, Math.Abs(error[n]) / bound[n]);
            }
        }
        return (Math.Sqrt(sumSq / count), maxRatio);
    }

    [Fact]
    public void Completeness_holds_within_variance_bound_and_4x_nsamples_halves_the_error()
    {
        using var scope = NewDisposeScope();
        var net = new SmallMlp(6, 8, 3);
        var model = ExplainableModel.Create(net);
        var generator = new Generator(11);
        var background = randn(new long[] { 40, 6 }, dtype: float64, generator: generator);
        var x = randn(new long[] { 60, 6 }, dtype: float64, generator: generator) * 1.5;
        using var explainer = new GradientExplainer(model, new[] { background });
        var (err50, ratio50) = CompletenessError(explainer, model, x, 50, 1);
        var (err200, ratio200) = CompletenessError(explainer, model, x, 200, 2);
        Assert.True(ratio50 < 5, $"completeness error {ratio50} standard-error bounds at nsamples 50");
        Assert.True(ratio200 < 5, $"completeness error {ratio200} standard-error bounds at nsamples 200");
        double ratio = err50 / err200;
        Assert.True(ratio > 1.5 && ratio < 2.7, $"RMS completeness error {err50} at 50 draws vs {err200} at 200: ratio {ratio}, expected ≈ 2");
    }

    [Fact]
    public void Returned_variances_match_the_empirical_variance_over_seeds()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new SmallMlp(5, 7, 2));
        var generator = new Generator(3);
        var background = randn(new long[] { 30, 5 }, dtype: float64, generator: generator);
        var x = randn(new long[] { 2, 5 }, dtype: float64, generator: generator);
        using var explainer = new GradientExplainer(model, new[] { background });
        const int seeds = 40;
        var estimates = new Tensor[seeds];
        var variances = new Tensor[seeds];
        for (int s = 0; s < seeds; s++)
        {
            using var r = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 100 + s, NSamples = 40, ReturnVariances = true });
            estimates[s] = r.ToShapLayout(0);
            variances[s] = stack(r.VariancesForInput(0).ToArray(), -1);
        }
        var empirical = stack(estimates, 0).var(0); // unbiased, over seeds
        var reported = stack(variances, 0).mean(new long[] { 0 });
        double ratio = (empirical.sum() / reported.sum()).item<double>();
        Assert.True(ratio > 0.7 && ratio < 1.4, $"empirical / reported variance = {ratio}");
    }

    [Theory]
    [InlineData(OutputRankOrder.Max)]
    [InlineData(OutputRankOrder.Min)]
    [InlineData(OutputRankOrder.MaxAbs)]
    public void Ranked_outputs_are_sorted_and_match_the_unranked_attributions(OutputRankOrder order)
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new SmallMlp(4, 6, 5));
        var generator = new Generator(5);
        var background = randn(new long[] { 10, 4 }, dtype: float64, generator: generator);
        var x = randn(new long[] { 6, 4 }, dtype: float64, generator: generator) * 2;
        using var explainer = new GradientExplainer(model, new[] { background });
        using var all = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 9, NSamples = 30 });
        using var ranked = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 9, NSamples = 30, RankedOutputs = 3, OutputRankOrder = order });
        Assert.True(ranked.IsRanked);
        Assert.False(all.IsRanked);
        Assert.Equal(3, ranked.OutputCount);
        Assert.Equal(new long[] { 6, 3 }, ranked.OutputIndexes!.shape);
        Tensor fx;
        using (no_grad()) fx = model.Forward(x);
        var indexes = ranked.OutputIndexes!.data<long>().ToArray();
        for (long n = 0; n < 6; n++)
        {
            var f = Row(fx, n);
            double Key(long o) => order switch { OutputRankOrder.Max => f[o], OutputRankOrder.Min => -f[o], _ => Math.Abs(f[o]) };
            var chosen = indexes.Skip((int)n * 3).Take(3).ToArray();
            var best = Enumerable.Range(0, 5).Select(o => (long)o).OrderByDescending(Key).Take(3).ToArray();
            Assert.Equal(best, chosen);
            for (int j = 0; j < 3; j++)
                Assert.Equal(Row(all[(int)chosen[j], 0], n), Row(ranked[j, 0], n), new ToleranceComparer(1e-12));
        }
    }

    [Fact]
    public void Two_input_mnist_attributions_have_the_inputs_shapes()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new TwoInputMnistNet());
        var generator = new Generator(1);
        var bg = rand(new long[] { 6, 1, 28, 28 }, generator: generator);
        var x = rand(new long[] { 3, 1, 28, 28 }, generator: generator);
        using var explainer = new GradientExplainer(model, new[] { bg, bg }, labels: Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray());
        Assert.Equal(new long[] { 10 }, explainer.ExpectedValues.shape);
        using var result = explainer.Explain(new[] { x, x }, new GradientExplainOptions { Seed = 3, NSamples = 8, ReturnVariances = true });
        Assert.Equal(10, result.OutputCount);
        Assert.Equal(2, result.InputCount);
        for (int o = 0; o < 10; o++)
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(x.shape, result[o, i].shape);
                Assert.Equal(x.shape, result.Variance(o, i).shape);
                Assert.True(isfinite(result[o, i]).all().item<bool>());
            }
        Assert.Equal("7", result.LabelOf(7));
        // Softmax outputs sum to one, so the attributions summed over outputs cancel.
        var total = result.ForInput(0).Concat(result.ForInput(1)).Select(t => t.sum()).Aggregate((a, b) => a + b);
        Assert.True(Math.Abs(total.item<float>()) < 1e-4);
    }

    [Fact]
    public void Layer_explanation_of_a_linear_map_matches_the_analytic_result()
    {
        using var scope = NewDisposeScope();
        // f(x) = B (A x + a) + b, explained at the input h = A x + a of layer "1": φ_o = B[o] ⊙ (h(x) − h(r)).
        var first = new KnownLinear(new double[,] { { 1, 2, 0 }, { -1, 0, 3 }, { 0.5, 0.5, 0.5 }, { 2, -1, 1 } }, new[] { 0.1, 0.2, 0.3, 0.4 });
        var secondWeights = new double[,] { { 1, -1, 2, 0.5 }, { 0, 3, -2, 1 } };
        var second = new KnownLinear(secondWeights, new[] { 1.0, -1.0 });
        var seq = nn.Sequential(("0", (nn.Module<Tensor, Tensor>)first), ("1", second));
        var model = ExplainableModel.Create(seq);
        var bg = tensor(new[] { 0.2, -0.4, 1.0 }, dtype: float64).view(1, 3);
        var x = tensor(new[] { 1.0, 2.0, 3.0, -1.0, 0.0, 2.0 }, dtype: float64).view(2, 3);
        using var explainer = new GradientExplainer(model, new[] { bg }, layer: "1");
        Assert.Equal(new long[] { 4 }, explainer.ExplainedShapes.Single());
        using var result = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 1, NSamples = 20 });
        Assert.Equal(1, result.InputCount);
        Tensor hx, hr;
        using (no_grad()) { hx = first.call(x); hr = first.call(bg); }
        for (int o = 0; o < 2; o++)
            for (long n = 0; n < 2; n++)
            {
                var h = Row(hx, n); var r = Row(hr, 0); var phi = Row(result[o, 0], n);
                for (int f = 0; f < 4; f++)
                    Assert.Equal(secondWeights[o, f] * (h[f] - r[f]), phi[f], 12);
            }
    }

    [Fact]
    public void Layer_explanation_of_a_named_field_is_complete()
    {
        using var scope = NewDisposeScope();
        var net = new SmallMlp(5, 6, 2);
        var model = ExplainableModel.Create(net);
        var generator = new Generator(4);
        var bg = randn(new long[] { 20, 5 }, dtype: float64, generator: generator);
        var x = randn(new long[] { 4, 5 }, dtype: float64, generator: generator);
        using var explainer = new GradientExplainer(model, new[] { bg }, layer: "head");
        using var result = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 2, NSamples = 10 });
        Assert.Equal(new long[] { 4, 6 }, result[0, 0].shape);
        // head is linear, so each draw's layer attributions sum to f(x) − f(r) exactly; their mean differs from
        // f(x) − E[f(bg)] only by the sampling error of the drawn rows, bounded by the returned variances.
        Tensor fx;
        using (no_grad()) fx = model.Forward(x);
        using var many = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 3, NSamples = 4000, ReturnVariances = true });
        for (int o = 0; o < 2; o++)
        {
            var error = (many[o, 0].sum(1) - (fx.select(1, o) - explainer.ExpectedValues[o])).abs();
            var bound = many.Variance(o, 0).sqrt().sum(1) * 5;
            Assert.True((error <= bound).all().item<bool>());
        }
    }

    [Fact]
    public void Local_smoothing_zero_is_identical_and_positive_differs_but_stays_complete()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new KnownLinear(W, B));
        var generator = new Generator(8);
        var bg = randn(new long[] { 15, 4 }, dtype: float64, generator: generator);
        var x = randn(new long[] { 5, 4 }, dtype: float64, generator: generator);
        using var explainer = new GradientExplainer(model, new[] { bg });
        using var plain = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 4, NSamples = 100 });
        using var zero = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 4, NSamples = 100, LocalSmoothing = 0 });
        using var smooth = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 4, NSamples = 400, LocalSmoothing = 0.3, ReturnVariances = true });
        for (int o = 0; o < 3; o++)
        {
            Assert.True(plain[o, 0].equal(zero[o, 0]).all().item<bool>());
            Assert.False(plain[o, 0].allclose(smooth[o, 0], rtol: 1e-3, atol: 1e-3));
            Tensor fx;
            using (no_grad()) fx = model.Forward(x);
            var error = (smooth[o, 0].sum(1) - (fx.select(1, o) - explainer.ExpectedValues[o])).abs();
            var bound = smooth.Variance(o, 0).sqrt().sum(1) * 5;
            Assert.True((error <= bound).all().item<bool>(), $"output {o}: error {error.max().item<double>()}");
        }
    }

    [Fact]
    public void Same_seed_is_bitwise_identical_and_different_seeds_differ()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new SmallMlp(4, 5, 2));
        var bg = randn(20, 4, dtype: float64);
        var x = randn(3, 4, dtype: float64);
        using var explainer = new GradientExplainer(model, new[] { bg });
        var options = new GradientExplainOptions { Seed = 42, NSamples = 25, LocalSmoothing = 0.1, ReturnVariances = true };
        using var a = explainer.Explain(new[] { x }, options);
        using var b = explainer.Explain(new[] { x }, options);
        using var c = explainer.Explain(new[] { x }, new GradientExplainOptions { Seed = 43, NSamples = 25, LocalSmoothing = 0.1 });
        for (int o = 0; o < 2; o++)
        {
            Assert.True(a[o, 0].equal(b[o, 0]).all().item<bool>());
            Assert.True(a.Variance(o, 0).equal(b.Variance(o, 0)).all().item<bool>());
            Assert.False(a[o, 0].equal(c[o, 0]).all().item<bool>());
        }
    }

    [Theory]
    [InlineData(7)]     // batches that split samples' draws: exercises the running merge
    [InlineData(64)]
    public void Batch_size_and_output_mode_do_not_change_the_result(int maxRows)
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new SmallMlp(4, 5, 3));
        var bg = randn(12, 4, dtype: float64);
        var x = randn(5, 4, dtype: float64);
        using var explainer = new GradientExplainer(model, new[] { bg });
        var reference = new GradientExplainOptions { Seed = 5, NSamples = 20, LocalSmoothing = 0.2, ReturnVariances = true };
        using var a = explainer.Explain(new[] { x }, reference);
        using var b = explainer.Explain(new[] { x }, new GradientExplainOptions
        { Seed = 5, NSamples = 20, LocalSmoothing = 0.2, ReturnVariances = true, MaxBatchRows = maxRows });
        using var c = explainer.Explain(new[] { x }, new GradientExplainOptions
        { Seed = 5, NSamples = 20, LocalSmoothing = 0.2, ReturnVariances = true, MaxBatchRows = maxRows, OutputMode = GradientOutputMode.Replicate });
        for (int o = 0; o < 3; o++)
        {
            Assert.True(a[o, 0].allclose(b[o, 0], rtol: 1e-9, atol: 1e-12));
            Assert.True(a.Variance(o, 0).allclose(b.Variance(o, 0), rtol: 1e-9, atol: 1e-12));
            Assert.True(a[o, 0].allclose(c[o, 0], rtol: 1e-9, atol: 1e-12));
            Assert.True(a.Variance(o, 0).allclose(c.Variance(o, 0), rtol: 1e-9, atol: 1e-12));
        }
    }

    private sealed class ToleranceComparer : System.Collections.Generic.IEqualityComparer<double>
    {
        private readonly double _tolerance;
        public ToleranceComparer(double tolerance) => _tolerance = tolerance;
        public bool Equals(double x, double y) => Math.Abs(x - y) <= _tolerance * Math.Max(1, Math.Abs(x));
        public int GetHashCode(double obj) => 0;
    }
}
