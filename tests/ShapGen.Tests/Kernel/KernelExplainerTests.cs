using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ShapGen;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Kernel;

public sealed class KernelExplainerTests
{
    // Two nonlinear outputs over M features (columns of a [N, M] float64 input).
    private static Tensor Nonlinear(Tensor x)
    {
        var c = x.unbind(1);
        var o0 = sin(c[0] * c[1]) + c[2] * c[2] * c[3] + exp(0.3 * c[4]) + c[5] * c[0];
        var rest = c.Length > 6 ? stack(c.Skip(6).ToArray(), 1).prod(1) : ones_like(c[0]);
        var o1 = tanh(c[1] - c[4] * c[5]) * (1 + c[3] * c[3]) + rest + c[2].abs();
        return stack(new[] { o0, o1 }, 1);
    }

    private static Tensor Sigmoid2(Tensor x)
    {
        var g = Nonlinear(x);
        return sigmoid(g * 0.5);
    }

    /// <summary>Exact Shapley values by enumerating all 2^M subsets: v(S) = link(mean_b f(x_S, b_rest)).</summary>
    private static double[,] BruteForce(Func<Tensor, Tensor> f, double[] x, double[,] background, KernelLink link)
    {
        int m = x.Length, b = background.GetLength(0);
        int subsets = 1 << m;
        var data = new double[subsets * b * m];
        for (int s = 0; s < subsets; s++)
            for (int r = 0; r < b; r++)
                for (int j = 0; j < m; j++)
                    data[(s * b + r) * m + j] = (s >> j & 1) == 1 ? x[j] : background[r, j];
        using var scope = NewDisposeScope();
        var outputs = f(tensor(data, new long[] { subsets * b, m }, float64)).data<double>().ToArray();
        int k = outputs.Length / (subsets * b);
        var v = new double[subsets, k];
        for (int s = 0; s < subsets; s++)
            for (int o = 0; o < k; o++)
            {
                double mean = 0;
                for (int r = 0; r < b; r++) mean += outputs[(s * b + r) * k + o];
                mean /= b;
                v[s, o] = link == KernelLink.Logit ? Math.Log(mean / (1 - mean)) : mean;
            }
        var fact = new double[m + 1];
        fact[0] = 1;
        for (int i = 1; i <= m; i++) fact[i] = fact[i - 1] * i;
        var phi = new double[m, k];
        for (int j = 0; j < m; j++)
            for (int s = 0; s < subsets; s++)
            {
                if ((s >> j & 1) == 1) continue;
                int size = System.Numerics.BitOperations.PopCount((uint)s);
                double weight = fact[size] * fact[m - size - 1] / fact[m];
                for (int o = 0; o < k; o++) phi[j, o] += weight * (v[s | 1 << j, o] - v[s, o]);
            }
        return phi;
    }

    private static (double[] X, double[,] Background) Data(int m, int rows, int seed)
    {
        var rng = new Random(seed);
        var x = Enumerable.Range(0, m).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var bg = new double[rows, m];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < m; j++) bg[r, j] = rng.NextDouble() * 2 - 1;
        return (x, bg);
    }

    private static Tensor Row(double[] x) => tensor(x, new long[] { 1, x.Length }, float64);

    private static Tensor Matrix(double[,] a) => tensor(a.Cast<double>().ToArray(), new long[] { a.GetLength(0), a.GetLength(1) }, float64);

    [Theory]
    [InlineData(6, 1, KernelLink.Identity)]
    [InlineData(9, 3, KernelLink.Identity)]
    [InlineData(10, 2, KernelLink.Identity)]
    [InlineData(8, 4, KernelLink.Logit)]
    public void Exact_enumeration_matches_brute_force_Shapley_values(int m, int rows, KernelLink link)
    {
        using var scope = NewDisposeScope();
        var (x, bg) = Data(m, rows, seed: m * 31 + rows);
        Func<Tensor, Tensor> f = link == KernelLink.Logit ? Sigmoid2 : Nonlinear;
        var expected = BruteForce(f, x, bg, link);
        var model = new ExplainableModel(t => f(t[0]), 1);
        using var explainer = new KernelExplainer(model, new[] { Matrix(bg) });
        var result = explainer.ExplainFeatures(new[] { Row(x) }, new KernelExplainOptions { NSamples = 1 << m, Link = link, Seed = 1 });
        Assert.True(result.IsExact[0]);
        Assert.Equal((1 << m) - 2, result.EvaluatedCoalitions[0]);
        for (int o = 0; o < 2; o++)
            for (int j = 0; j < m; j++)
                Assert.Equal(expected[j, o], result[0, o, j], 1e-6);
    }

    [Theory]
    [InlineData(12, 100, "off")]
    [InlineData(20, 6, "off")] // fewer coalitions than features: singular normal equations, minimum-norm solution
    [InlineData(12, 300, "auto")]
    [InlineData(14, 200, "num_features(3)")]
    [InlineData(12, 400, "aic")]
    [InlineData(12, 400, "bic")]
    [InlineData(7, 1000, "num_features(2)")]
    public void Efficiency_holds_exactly_for_every_output_in_every_mode(int m, int nsamples, string l1)
    {
        using var scope = NewDisposeScope();
        var (x, bg) = Data(m, 2, seed: m + nsamples);
        var model = new ExplainableModel(t => Nonlinear(t[0]), 1);
        using var explainer = new KernelExplainer(model, new[] { Matrix(bg) });
        var reg = KernelRegularization.Parse(l1);
        var inputs = new[] { cat(new[] { Row(x), Row(x.Select(v => -v).ToArray()) }, 0) };
        var result = explainer.ExplainFeatures(inputs, new KernelExplainOptions { NSamples = nsamples, Seed = 7, L1Reg = reg });
        for (int s = 0; s < 2; s++)
            for (int o = 0; o < 2; o++)
            {
                double sum = result.Values(s, o).Sum();
                Assert.Equal(result.ModelOutput(s, o) - result.ExpectedValues[o], sum, 1e-6);
                if (reg.Kind == KernelRegularizationKind.NumFeatures)
                    Assert.True(result.Values(s, o).Count(v => v != 0) <= reg.Count);
            }
        // Model output and base value are those of the model itself.
        var fx = Nonlinear(inputs[0]).data<double>().ToArray();
        var fnull = Nonlinear(Matrix(bg)).mean(new long[] { 0 }).data<double>().ToArray();
        Assert.Equal(fx[0], result.ModelOutput(0, 0), 1e-12);
        Assert.Equal(fx[3], result.ModelOutput(1, 1), 1e-12);
        Assert.Equal(fnull[1], result.ExpectedValues[1], 1e-12);
    }

    [Fact]
    public void Sampled_estimate_is_close_to_the_exact_values()
    {
        using var scope = NewDisposeScope();
        int m = 11;
        var (x, bg) = Data(m, 2, seed: 77);
        var expected = BruteForce(Nonlinear, x, bg, KernelLink.Identity);
        var model = new ExplainableModel(t => Nonlinear(t[0]), 1);
        using var explainer = new KernelExplainer(model, new[] { Matrix(bg) });
        var result = explainer.ExplainFeatures(new[] { Row(x) }, new KernelExplainOptions { NSamples = 1200, Seed = 4 });
        Assert.False(result.IsExact[0]);
        double scale = Enumerable.Range(0, m).Max(j => Math.Abs(expected[j, 0]));
        for (int j = 0; j < m; j++) Assert.Equal(expected[j, 0], result[0, 0, j], 0.05 * scale);
    }

    [Fact]
    public void Repeated_explanations_do_not_leak_tensors()
    {
        var (x, bg) = Data(9, 3, seed: 12);
        var model = new ExplainableModel(t => Nonlinear(t[0]), 1);
        using var background = Matrix(bg);
        using var input = Row(x);
        using var explainer = new KernelExplainer(model, new[] { background });
        var options = new KernelExplainOptions { NSamples = 100, Seed = 1, MaxBatchRows = 60 };
        explainer.Explain(new[] { input }, options).Dispose();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 30; i++) explainer.ExplainFeatures(new[] { input }, options);
        long middle = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 30; i++) explainer.Explain(new[] { input }, options).Dispose();
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.InRange(middle - before, -5, 5);
        Assert.InRange(after - middle, -5, 5);
    }

    [Fact]
    public void Two_explainers_on_one_model_from_two_threads_match_sequential_results()
    {
        var (x, bg) = Data(12, 2, seed: 21);
        var model = new ExplainableModel(t => Nonlinear(t[0]), 1);
        double[] Run()
        {
            using var scope = NewDisposeScope();
            using var explainer = new KernelExplainer(model, new[] { Matrix(bg) });
            var r = explainer.ExplainFeatures(new[] { Row(x) }, new KernelExplainOptions { NSamples = 300, Seed = 5 });
            return r.Values(0, 0).Concat(r.Values(0, 1)).ToArray();
        }
        var sequential = Run();
        var results = new double[2][];
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() => results[i] = Run())).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Equal(sequential, results[0]);
        Assert.Equal(sequential, results[1]);
    }

    [Fact]
    public void Logit_link_rejects_outputs_outside_zero_one()
    {
        using var scope = NewDisposeScope();
        var model = new ExplainableModel(t => sigmoid(t[0].sum(1, keepdim: true)) * 2, 1);
        using var explainer = new KernelExplainer(model, new[] { zeros(1, 3, float64) });
        var e = Assert.Throws<ArgumentException>(() => explainer.ExplainFeatures(new[] { ones(1, 3, float64) },
            new KernelExplainOptions { Link = KernelLink.Logit }));
        Assert.Contains("(0, 1)", e.Message);
    }

    [CudaFact]
    public void Cuda_inputs_give_the_cpu_values()
    {
        using var scope = NewDisposeScope();
        var (x, bg) = Data(10, 3, seed: 6);
        var model = new ExplainableModel(t => Nonlinear(t[0]), 1);
        var options = new KernelExplainOptions { NSamples = 400, Seed = 9 };
        using var cpu = new KernelExplainer(model, new[] { Matrix(bg) });
        using var gpu = new KernelExplainer(model, new[] { Matrix(bg).cuda() });
        var a = cpu.ExplainFeatures(new[] { Row(x) }, options);
        var b = gpu.ExplainFeatures(new[] { Row(x).cuda() }, options);
        for (int j = 0; j < 10; j++) Assert.Equal(a[0, 0, j], b[0, 0, j], 1e-8);
        using var e = gpu.Explain(new[] { Row(x).cuda() }, options);
        Assert.Equal(DeviceType.CUDA, e[0, 0].device_type);
    }

    [Fact]
    public void Lars_enters_orthogonal_features_by_decreasing_correlation_and_lasso_path_ends_at_least_squares()
    {
        // Orthogonal columns (a scaled Hadamard design): LAR enters features in order of |xⱼᵀy| = |βⱼ|·‖xⱼ‖².
        int n = 8, p = 4;
        var x = new double[n, p];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < p; j++) x[i, j] = System.Numerics.BitOperations.PopCount((uint)(i & (j + 1))) % 2 == 0 ? 1 : -1;
        var beta = new[] { 0.5, -3.0, 1.5, 2.0 };
        var y = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, p).Sum(j => x[i, j] * beta[j])).ToArray();
        Assert.Equal(new[] { 1, 3, 2 }, Lars.ActiveAfter(x, y, 3));
        var path = Lars.Path(x, y, lasso: true, maxSteps: 500);
        for (int j = 0; j < p; j++) Assert.Equal(beta[j], path[^1].Coef[j], 1e-9);
    }

    [Fact]
    public void Num_features_keeps_the_strongest_features_of_a_sparse_model()
    {
        using var scope = NewDisposeScope();
        int m = 16;
        var w = new double[m];
        w[3] = 5; w[11] = -4; w[7] = 3;
        var (x, bg) = Data(m, 1, seed: 5);
        var weights = tensor(w, new long[] { m, 1 }, float64);
        var model = new ExplainableModel(t => t[0].matmul(weights) + 0.01 * t[0].pow(2).sum(1, keepdim: true), 1);
        using var explainer = new KernelExplainer(model, new[] { Matrix(bg) });
        var result = explainer.ExplainFeatures(new[] { Row(x) },
            new KernelExplainOptions { NSamples = 500, Seed = 3, L1Reg = KernelRegularization.NumFeatures(3) });
        var nonzero = Enumerable.Range(0, m).Where(j => result[0, 0, j] != 0).OrderBy(j => j).ToArray();
        var strongest = Enumerable.Range(0, m).OrderByDescending(j => Math.Abs(w[j] * (x[j] - bg[0, j]))).Take(3).OrderBy(j => j).ToArray();
        Assert.Equal(strongest, nonzero);
    }

    [Fact]
    public void Linear_model_gets_exact_values_even_when_sampled()
    {
        using var scope = NewDisposeScope();
        int m = 40;
        var (x, bg) = Data(m, 5, seed: 11);
        var w = Enumerable.Range(0, m).Select(j => Math.Sin(j + 1.0)).ToArray();
        var weights = tensor(w, new long[] { m, 1 }, float64);
        var model = new ExplainableModel(t => t[0].matmul(weights) + 0.5, 1);
        using var explainer = new KernelExplainer(model, new[] { Matrix(bg) });
        var result = explainer.ExplainFeatures(new[] { Row(x) }, new KernelExplainOptions { NSamples = 300, Seed = 2 });
        Assert.False(result.IsExact[0]);
        for (int j = 0; j < m; j++)
        {
            double meanBg = Enumerable.Range(0, 5).Average(r => bg[r, j]);
            Assert.Equal(w[j] * (x[j] - meanBg), result[0, 0, j], 1e-8);
        }
    }

    [Fact]
    public void Symmetric_features_get_equal_values_and_a_dummy_gets_zero()
    {
        using var scope = NewDisposeScope();
        // f = x0·x1 + sin(x2) (x3 ignored); x0 and x1 interchangeable (same value, same background).
        var model = new ExplainableModel(t =>
        {
            var c = t[0].unbind(1);
            return (c[0] * c[1] + sin(c[2]) + 0 * c[3]).unsqueeze(1);
        }, 1);
        var bg = Matrix(new double[,] { { 0.2, 0.2, -1, 0.5 }, { -0.4, -0.4, 0.3, 2 } });
        using var explainer = new KernelExplainer(model, new[] { bg });
        var result = explainer.ExplainFeatures(new[] { Row(new[] { 1.5, 1.5, 0.7, -3 }) }, new KernelExplainOptions { NSamples = 100 });
        Assert.True(result.IsExact[0]);
        Assert.Equal(result[0, 0, 0], result[0, 0, 1], 1e-10);
        Assert.Equal(0, result[0, 0, 3], 1e-10);
        Assert.NotEqual(0, result[0, 0, 0], 3);
    }

    [Fact]
    public void Feature_equal_to_the_background_gets_exactly_zero()
    {
        using var scope = NewDisposeScope();
        var model = new ExplainableModel(t => (t[0] * t[0]).sum(1, keepdim: true), 1);
        var bg = Matrix(new double[,] { { 1, 2, 3 } });
        using var explainer = new KernelExplainer(model, new[] { bg });
        var result = explainer.ExplainFeatures(new[] { Row(new double[] { 5, 2, 0 }) });
        Assert.Equal(0.0, result[0, 0, 1]);
        Assert.Equal(25 - 1, result[0, 0, 0], 1e-9);
        Assert.Equal(0 - 9, result[0, 0, 2], 1e-9);
    }

    [Fact]
    public void Groups_span_inputs_and_elements_add_up_to_the_output_change()
    {
        using var scope = NewDisposeScope();
        // Two inputs [N, 2, 2] and [N, 3]; f = Σ a·w1 + Σ b·w2 (linear), features: three groups across inputs.
        var w1 = tensor(new double[] { 1, -2, 3, 0.5 }, new long[] { 1, 2, 2 }, float64);
        var w2 = tensor(new double[] { -1, 4, 2 }, new long[] { 1, 3 }, float64);
        var model = new ExplainableModel(t => (t[0] * w1).sum(new long[] { 1, 2 }).unsqueeze(1) + (t[1] * w2).sum(1, keepdim: true), 2);
        var bgA = zeros(1, 2, 2, float64);
        var bgB = zeros(1, 3, float64);
        var a = tensor(new double[] { 1, 1, 1, 1 }, new long[] { 1, 2, 2 }, float64);
        var b = tensor(new double[] { 1, 1, 1 }, new long[] { 1, 3 }, float64);
        var groups = new KernelFeatureGroups(3, new[] { 0, 0, 1, 2 }, new[] { 1, 2, 2 });
        using var explainer = new KernelExplainer(model, new[] { bgA, bgB });
        var options = new KernelExplainOptions { FeatureGroups = groups };
        var result = explainer.ExplainFeatures(new[] { a, b }, options);
        Assert.Equal(1 - 2, result[0, 0, 0], 1e-9);          // a00 + a01
        Assert.Equal(3 - 1, result[0, 0, 1], 1e-9);          // a10 + b0
        Assert.Equal(0.5 + 4 + 2, result[0, 0, 2], 1e-9);    // a11 + b1 + b2
        using var explanation = explainer.Explain(new[] { a, b }, options);
        Assert.Equal(new long[] { 1, 2, 2 }, explanation[0, 0].shape);
        Assert.Equal(new long[] { 1, 3 }, explanation[0, 1].shape);
        double total = explanation[0, 0].sum().item<double>() + explanation[0, 1].sum().item<double>();
        Assert.Equal(result.ModelOutput(0, 0) - result.ExpectedValues[0], total, 1e-9);
        Assert.Equal(6.5 / 3, explanation[0, 1][0, 2].item<double>(), 1e-9); // spread over the group's 3 elements
    }

    [Fact]
    public void Explain_returns_shap_layout_per_element_for_ungrouped_features()
    {
        using var scope = NewDisposeScope();
        var (x, bg) = Data(5, 2, seed: 3);
        var model = new ExplainableModel(t => Nonlinear(cat(new[] { t[0], t[0].narrow(1, 0, 1) }, 1)), 1);
        using var explainer = new KernelExplainer(model, new[] { Matrix(bg) }, labels: new[] { "a", "b" });
        using var explanation = explainer.Explain(new[] { Row(x) });
        var features = explainer.ExplainFeatures(new[] { Row(x) });
        Assert.Equal(2, explanation.OutputCount);
        Assert.Equal("b", explanation.LabelOf(1));
        for (int j = 0; j < 5; j++) Assert.Equal(features[0, 1, j], explanation[1, 0][0, j].item<double>(), 1e-12);
        Assert.Equal(features.ExpectedValues[0], explanation.ExpectedValues[0].item<double>(), 1e-12);
    }

    [Fact]
    public void Same_seed_gives_bitwise_identical_results()
    {
        using var scope = NewDisposeScope();
        var (x, bg) = Data(20, 3, seed: 9);
        var model = new ExplainableModel(t => Nonlinear(t[0]), 1);
        using var explainer = new KernelExplainer(model, new[] { Matrix(bg) });
        var options = new KernelExplainOptions { NSamples = 150, Seed = 42 };
        var r1 = explainer.ExplainFeatures(new[] { Row(x) }, options);
        var r2 = explainer.ExplainFeatures(new[] { Row(x) }, options);
        Assert.Equal(r1.Values(0, 0), r2.Values(0, 0));
        Assert.Equal(r1.Values(0, 1), r2.Values(0, 1));
    }

    [Fact]
    public void Progress_reaches_total_exactly_once_and_batches_are_honoured()
    {
        using var scope = NewDisposeScope();
        var (x, bg) = Data(8, 3, seed: 4);
        int calls = 0;
        var model = new ExplainableModel(t => { calls++; Assert.True(t[0].shape[0] <= 30); return Nonlinear(t[0]); }, 1);
        using var explainer = new KernelExplainer(model, new[] { Matrix(bg) });
        var reports = new List<ExplainProgress>();
        var progress = new SyncProgress(reports.Add);
        var inputs = new[] { cat(new[] { Row(x), Row(x.Reverse().ToArray()) }, 0) };
        calls = 0;
        explainer.ExplainFeatures(inputs, new KernelExplainOptions { NSamples = 100, MaxBatchRows = 30, Progress = progress });
        Assert.Single(reports, r => r.Done == r.Total);
        Assert.Equal(reports[^1].Total, reports[^1].Done);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.Done <= p.Second.Done));
        Assert.True(calls >= 2 * 100 * 3 / 30);
    }

    [Fact]
    public void Out_of_memory_halves_the_batch_logs_it_and_gives_the_same_result()
    {
        using var scope = NewDisposeScope();
        var (x, bg) = Data(8, 3, seed: 4);
        var plain = new ExplainableModel(t => Nonlinear(t[0]), 1);
        // A model that "runs out of memory" on batches above 12 rows, as libtorch reports it.
        var tight = new ExplainableModel(t => t[0].shape[0] > 12
            ? throw new InvalidOperationException("CUDA out of memory. Tried to allocate 2.00 GiB")
            : Nonlinear(t[0]), 1);
        var options = new KernelExplainOptions { NSamples = 60, Seed = 3, MaxBatchRows = 60 };
        using var reference = new KernelExplainer(plain, new[] { Matrix(bg) });
        var expected = reference.ExplainFeatures(new[] { Row(x) }, options);
        var log = new ListLogger();
        var reports = new List<ExplainProgress>();
        options.Logger = log;
        options.Progress = new SyncProgress(reports.Add);
        using var explainer = new KernelExplainer(tight, new[] { Matrix(bg) });
        var result = explainer.ExplainFeatures(new[] { Row(x) }, options);
        var halved = log.Entries.Where(e => e.Id == ShapGenEvents.BatchHalved).ToList();
        Assert.NotEmpty(halved);
        Assert.Contains("out of memory", halved[0].Message);
        Assert.Equal(expected.Values(0, 0), result.Values(0, 0));
        Assert.Equal(expected.Values(0, 1), result.Values(0, 1));
        Assert.Single(reports, r => r.Done == r.Total);
    }

    [Fact]
    public void Cancellation_stops_the_run_and_the_explainer_stays_usable()
    {
        using var scope = NewDisposeScope();
        var (x, bg) = Data(10, 2, seed: 8);
        using var cts = new CancellationTokenSource();
        int calls = 0;
        var model = new ExplainableModel(t => { if (++calls == 3) cts.Cancel(); return Nonlinear(t[0]); }, 1);
        using var explainer = new KernelExplainer(model, new[] { Matrix(bg) });
        var options = new KernelExplainOptions { NSamples = 200, MaxBatchRows = 10 };
        calls = 0;
        Assert.Throws<OperationCanceledException>(() => explainer.ExplainFeatures(new[] { Row(x) }, options, cts.Token));
        Assert.Equal(3, calls);
        var result = explainer.ExplainFeatures(new[] { Row(x) }, options);
        Assert.Equal(result.ModelOutput(0, 0) - result.ExpectedValues[0], result.Values(0, 0).Sum(), 1e-6);
    }

    [Fact]
    public void Bad_arguments_give_clear_errors()
    {
        using var scope = NewDisposeScope();
        var (x, bg) = Data(4, 2, seed: 1);
        var model = new ExplainableModel(t => Nonlinear(cat(new[] { t[0], t[0] }, 1)), 1);
        using var explainer = new KernelExplainer(model, new[] { Matrix(bg) });
        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => explainer.ExplainFeatures(new[] { Row(x) }, new KernelExplainOptions { NSamples = 0 }));
        Assert.Contains("NSamples", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => explainer.ExplainFeatures(new[] { Row(new double[] { 1, 2, 3 }) }));
        Assert.Contains("[3]", e2.Message);
        Assert.Contains("[4]", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => explainer.ExplainFeatures(new[] { Row(new[] { 1, double.NaN, 3, 4 }) }));
        Assert.Contains("NaN", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => explainer.ExplainFeatures(new[] { Row(x), Row(x) }));
        Assert.Contains("1 input", e4.Message);
        var e5 = Assert.Throws<ArgumentException>(() => explainer.ExplainFeatures(new[] { Row(x) },
            new KernelExplainOptions { FeatureGroups = new KernelFeatureGroups(2, new[] { 0, 1, 1 }) }));
        Assert.Contains("3 elements", e5.Message);
        Assert.Throws<ArgumentException>(() => new KernelExplainer(model, new[] { zeros(0, 4, float64) }));
        Assert.Throws<ArgumentException>(() => new KernelExplainer(model, new[] { Matrix(bg) }, labels: new[] { "only one" }));
        Assert.Throws<FormatException>(() => KernelRegularization.Parse("num_features(0)"));
        // Still usable after the errors.
        var ok = explainer.ExplainFeatures(new[] { Row(x) });
        Assert.True(ok.IsExact[0]);
    }

    [Fact]
    public void Sampler_uses_shap_kernel_weights_and_enumerates_when_it_fits()
    {
        var set = KernelSampler.Sample(5, null, new Random(1));
        Assert.True(set.Exact);
        Assert.Equal(30, set.Count);
        // Kernel weight of a size-s coalition ∝ (M − 1) / (C(M, s) s (M − s)).
        double w1 = set.Weights[set.Masks.FindIndex(mk => mk.Sum(b => b) == 1)];
        double w2 = set.Weights[set.Masks.FindIndex(mk => mk.Sum(b => b) == 2)];
        Assert.Equal((4.0 / (5 * 1 * 4)) / (4.0 / (10 * 2 * 3)), w1 / w2, 1e-12);
        Assert.Equal(1.0, set.Weights.Sum(), 1e-12);
        var sampled = KernelSampler.Sample(30, 500, new Random(2));
        Assert.False(sampled.Exact);
        Assert.Equal(500, sampled.Count);
        Assert.Equal(sampled.Count, sampled.Masks.Select(mk => Convert.ToBase64String(mk)).Distinct().Count());
        // Paired complements: a sampled mask and the next one are complements (sizes below M/2 are paired).
        int paired = Enumerable.Range(0, sampled.Count - 1).Count(i => sampled.Masks[i].Zip(sampled.Masks[i + 1]).All(p => p.First + p.Second == 1));
        Assert.True(paired >= sampled.Count / 3);
    }

    private sealed class SyncProgress : IProgress<ExplainProgress>
    {
        private readonly Action<ExplainProgress> _report;
        public SyncProgress(Action<ExplainProgress> report) => _report = report;
        public void Report(ExplainProgress value) => _report(value);
    }
}
