using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TorchSharp;
using Xunit;
using static ShapGen.Tests.Deep.DeepTestModels;
using static TorchSharp.torch;

namespace ShapGen.Tests.Deep;

public sealed class DeepExplainerTests
{
    private static readonly double[,] W1 = { { 1.0, -2.0 }, { 0.5, 1.0 } };
    private static readonly double[] B1 = { 0.5, -1.0 };
    private static readonly double[] W2 = { 2.0, -1.0 };
    private const double B2 = 0.3;

    private static nn.Module<Tensor, Tensor> HandNet()
    {
        var first = nn.Linear(2, 2);
        var second = nn.Linear(2, 1);
        var model = nn.Sequential(first, nn.ReLU(), second);
        model.to(float64);
        using (no_grad())
        {
            first.weight!.copy_(tensor(new[] { W1[0, 0], W1[0, 1], W1[1, 0], W1[1, 1] }, dtype: float64).view(2, 2));
            first.bias!.copy_(tensor(B1, dtype: float64));
            second.weight!.copy_(tensor(W2, dtype: float64).view(1, 2));
            second.bias!.copy_(tensor(new[] { B2 }, dtype: float64));
        }
        model.eval();
        return model;
    }

    private static double Relu(double v) => Math.Max(v, 0);

    /// <summary>DeepLIFT rescale rule for W2·relu(W1 x + b1) + b2, written out for one reference.</summary>
    private static double[] HandDeepLift(double[] x, double[] r)
    {
        var attribution = new double[2];
        for (int j = 0; j < 2; j++)
        {
            double h = W1[j, 0] * x[0] + W1[j, 1] * x[1] + B1[j];
            double hr = W1[j, 0] * r[0] + W1[j, 1] * r[1] + B1[j];
            double m = h == hr ? (h > 0 ? 1 : 0) : (Relu(h) - Relu(hr)) / (h - hr);
            for (int i = 0; i < 2; i++)
                attribution[i] += (x[i] - r[i]) * W2[j] * m * W1[j, i];
        }
        return attribution;
    }

    [Fact]
    public void Two_layer_relu_net_matches_hand_derived_deeplift()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(HandNet());
        var points = new[] { new[] { 1.0, 1.0 }, new[] { -0.7, 0.4 }, new[] { 2.0, -1.5 } };
        var refs = new[] { new[] { 0.0, 0.0 }, new[] { 0.3, -0.8 } };
        var background = tensor(refs.SelectMany(v => v).ToArray(), dtype: float64).view(2, 2);
        var x = tensor(points.SelectMany(v => v).ToArray(), dtype: float64).view(3, 2);
        using var explainer = new DeepExplainer(model, new[] { background });
        using var e = explainer.Explain(new[] { x });
        var actual = e[0, 0].data<double>().ToArray();
        for (int s = 0; s < points.Length; s++)
        {
            var a0 = HandDeepLift(points[s], refs[0]);
            var a1 = HandDeepLift(points[s], refs[1]);
            for (int i = 0; i < 2; i++)
                Assert.Equal((a0[i] + a1[i]) / 2, actual[s * 2 + i], 12);
        }
        // First point against the first reference by hand: attributions 5/6 and −7/3.
        using var single = new DeepExplainer(model, new[] { background.narrow(0, 0, 1) });
        using var e1 = single.Explain(new[] { x.narrow(0, 0, 1) });
        Assert.Equal(5.0 / 6, e1[0, 0][0, 0].item<double>(), 12);
        Assert.Equal(-7.0 / 3, e1[0, 0][0, 1].item<double>(), 12);
    }

    [Fact]
    public void Linear_model_equals_weight_times_difference_from_background_mean()
    {
        using var scope = NewDisposeScope();
        var linear = nn.Linear(4, 3);
        var model = Seq(3, linear);
        var background = Rand(1, 7, 4);
        var x = Rand(2, 5, 4);
        using var explainer = new DeepExplainer(ExplainableModel.Create(model), new[] { background });
        using var e = explainer.Explain(new[] { x });
        var centered = x - background.mean(new long[] { 0 }, keepdim: true);
        for (int o = 0; o < 3; o++)
        {
            var expected = centered * linear.weight![o].unsqueeze(0);
            Assert.True(e[o, 0].allclose(expected, rtol: 0, atol: 1e-12), $"output {o}");
        }
    }

    public static IEnumerable<object[]> Nonlinearities() => new[]
    {
        "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softplus", "Softmax", "SoftmaxMiddle", "LogSoftmax",
        "MaxPool1d", "MaxPool2d", "MaxPool2dOverlapping",
    }.Select(n => new object[] { n });

    private static (nn.Module<Tensor, Tensor> Model, long[] Shape) Build(string kind) => kind switch
    {
        "ReLU" => (Seq(1, nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3)), new long[] { 5 }),
        "LeakyReLU" => (Seq(1, nn.Linear(5, 6), nn.LeakyReLU(0.2), nn.Linear(6, 3)), new long[] { 5 }),
        "ELU" => (Seq(1, nn.Linear(5, 6), nn.ELU(0.7), nn.Linear(6, 3)), new long[] { 5 }),
        "Sigmoid" => (Seq(1, nn.Linear(5, 6), nn.Sigmoid(), nn.Linear(6, 3)), new long[] { 5 }),
        "Tanh" => (Seq(1, nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3)), new long[] { 5 }),
        "Softplus" => (Seq(1, nn.Linear(5, 6), nn.Softplus(2, 1), nn.Linear(6, 3)), new long[] { 5 }),
        "Softmax" => (Seq(1, nn.Linear(5, 6), nn.Linear(6, 4), nn.Softmax(1)), new long[] { 5 }),
        "SoftmaxMiddle" => (Seq(1, nn.Linear(5, 6), nn.Softmax(1), nn.Linear(6, 3)), new long[] { 5 }),
        "LogSoftmax" => (Seq(1, nn.Linear(5, 6), nn.LogSoftmax(1), nn.Linear(6, 3)), new long[] { 5 }),
        "MaxPool1d" => (Seq(1, nn.Conv1d(2, 3, 3), nn.MaxPool1d(2), nn.Flatten(), nn.Linear(3 * 4, 3)), new long[] { 2, 10 }),
        "MaxPool2d" => (Seq(1, nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 3 * 3, 3)), new long[] { 1, 8, 8 }),
        "MaxPool2dOverlapping" => (Seq(1, nn.Conv2d(1, 2, 3), nn.MaxPool2d(3, 1), nn.Flatten(), nn.Linear(2 * 4 * 4, 3)), new long[] { 1, 8, 8 }),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(Nonlinearities))]
    public void Attributions_add_up_for_every_supported_nonlinearity(string kind)
    {
        using var scope = NewDisposeScope();
        var (module, shape) = Build(kind);
        var model = ExplainableModel.Create(module);
        var background = Rand(11, shape.Prepend(6L).ToArray());
        var x = Rand(12, shape.Prepend(4L).ToArray()) * 2;
        using var explainer = new DeepExplainer(model, new[] { background });
        Assert.True(explainer.HookedModuleCount >= 1);
        using var e = explainer.Explain(new[] { x }, new DeepExplainOptions { CheckAdditivity = false, MaxBatchRows = 10 });
        double gap = AdditivityGap(model, new[] { x }, new[] { background }, e);
        Assert.True(gap < 1e-5, $"{kind}: additivity gap {gap}");
        // The rules change the gradients: attributions differ from plain input × gradient for nonlinear models.
        Assert.True(Totals(e).abs().sum().item<double>() > 0);
    }

    [Fact]
    public void Background_row_equal_to_input_gives_zero_attributions()
    {
        using var scope = NewDisposeScope();
        var (module, shape) = Build("MaxPool2d");
        var x = Rand(5, shape.Prepend(1L).ToArray());
        using var explainer = new DeepExplainer(ExplainableModel.Create(module), new[] { x.clone() });
        using var e = explainer.Explain(new[] { x });
        for (int o = 0; o < e.OutputCount; o++)
            Assert.Equal(0.0, e[o, 0].abs().max().item<double>());
    }

    [Fact]
    public void Functional_relu_is_reported_by_the_additivity_check_and_exact_with_DeepLiftOps()
    {
        using var scope = NewDisposeScope();
        var background = Rand(21, 8, 4);
        var x = Rand(22, 3, 4) * 3;
        var plain = ExplainableModel.Create(new FunctionalReluNet(useOps: false, seed: 5));
        using (var explainer = new DeepExplainer(plain, new[] { background }))
        {
            var error = Assert.Throws<DeepLiftAdditivityException>(() => explainer.Explain(new[] { x }));
            Assert.Contains("functional", error.Message);
            Assert.Contains("DeepLiftOps", error.Message);
            Assert.InRange(error.Output, 0, 2);
            Assert.InRange(error.Sample, 0, 2);
            Assert.True(Math.Abs(error.Gap) > 1e-6);
            Assert.Contains($"failed for output {error.Output} of sample {error.Sample}: f(x) = ", error.Message); // not "output model output 1"
        }
        using (var labelled = new DeepExplainer(plain, new[] { background }, labels: new[] { "a", "b", "c" }))
        {
            var error = Assert.Throws<DeepLiftAdditivityException>(() => labelled.Explain(new[] { x }));
            Assert.Contains($"failed for output {error.Output} ('{"abc"[(int)error.Output]}') of sample", error.Message);
        }
        var ops = ExplainableModel.Create(new FunctionalReluNet(useOps: true, seed: 5));
        using (var explainer = new DeepExplainer(ops, new[] { background }))
        {
            using var e = explainer.Explain(new[] { x });
            Assert.True(AdditivityGap(ops, new[] { x }, new[] { background }, e) < 1e-10);
        }
    }

    [Fact]
    public void DeepLiftOps_behave_like_torch_outside_an_explanation()
    {
        using var scope = NewDisposeScope();
        var x = Rand(3, 2, 3, 6, 6);
        Assert.True(DeepLiftOps.Relu(x).IsEqual(nn.functional.relu(x)));
        Assert.True(DeepLiftOps.Sigmoid(x).IsEqual(x.sigmoid()));
        Assert.True(DeepLiftOps.Tanh(x).IsEqual(x.tanh()));
        Assert.True(DeepLiftOps.Elu(x, 0.5).IsEqual(nn.functional.elu(x, 0.5)));
        Assert.True(DeepLiftOps.LeakyRelu(x, 0.1).IsEqual(nn.functional.leaky_relu(x, 0.1)));
        Assert.True(DeepLiftOps.Softplus(x, 2, 3).IsEqual(nn.functional.softplus(x, 2, 3)));
        Assert.True(DeepLiftOps.Softmax(x, 1).IsEqual(x.softmax(1)));
        Assert.True(DeepLiftOps.LogSoftmax(x, -1).IsEqual(x.log_softmax(-1)));
        Assert.True(DeepLiftOps.MaxPool2d(x, 2).IsEqual(nn.functional.max_pool2d(x, 2)));
        var seq = x.flatten(2);
        Assert.True(DeepLiftOps.MaxPool1d(seq, 3, 2).IsEqual(nn.functional.max_pool1d(seq, 3, 2)));
    }

    [Fact]
    public void A_module_used_twice_in_one_forward_gives_the_same_result_as_two_modules()
    {
        using var scope = NewDisposeScope();
        var background = Rand(31, 6, 5);
        var x = Rand(32, 3, 5) * 2;
        var reused = ExplainableModel.Create(new ReusedReluNet(reuse: true, seed: 9));
        var distinct = ExplainableModel.Create(new ReusedReluNet(reuse: false, seed: 9));
        using var a = new DeepExplainer(reused, new[] { background });
        using var b = new DeepExplainer(distinct, new[] { background });
        using var ea = a.Explain(new[] { x });
        using var eb = b.Explain(new[] { x });
        for (int o = 0; o < 2; o++)
            Assert.True(ea[o, 0].allclose(eb[o, 0], rtol: 0, atol: 1e-12));
        Assert.True(AdditivityGap(reused, new[] { x }, new[] { background }, ea) < 1e-10);
    }

    [Fact]
    public void In_place_activation_gives_the_out_of_place_result_and_is_restored()
    {
        using var scope = NewDisposeScope();
        var relu = nn.ReLU(inplace: true);
        torch.manual_seed(4);
        var inplace = Seq(4, nn.Linear(5, 6), relu, nn.Linear(6, 2));
        torch.manual_seed(4);
        var outOfPlace = Seq(4, nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 2));
        var background = Rand(41, 6, 5);
        var x = Rand(42, 3, 5);
        using var a = new DeepExplainer(ExplainableModel.Create(inplace), new[] { background });
        using var b = new DeepExplainer(ExplainableModel.Create(outOfPlace), new[] { background });
        using var ea = a.Explain(new[] { x });
        using var eb = b.Explain(new[] { x });
        Assert.True(ea[1, 0].allclose(eb[1, 0], rtol: 0, atol: 1e-12));
        Assert.True(((TorchSharp.Modules.ReLU)relu).inplace);
    }

    [Fact]
    public void Model_in_training_mode_is_explained_in_eval_mode_and_restored()
    {
        using var scope = NewDisposeScope();
        var model = Seq(6, nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2));
        model.train();
        var em = ExplainableModel.Create(model);
        var background = Rand(51, 6, 5);
        var x = Rand(52, 3, 5);
        using var explainer = new DeepExplainer(em, new[] { background });
        using var e1 = explainer.Explain(new[] { x });
        using var e2 = explainer.Explain(new[] { x });
        Assert.True(e1[0, 0].IsEqual(e2[0, 0]));
        Assert.True(model.training);
        model.eval();
        Assert.True(AdditivityGap(em, new[] { x }, new[] { background }, e1) < 1e-10);
    }

    [Fact]
    public void Unsupported_module_is_an_error_naming_its_path_before_any_work()
    {
        using var scope = NewDisposeScope();
        var model = Seq(7, nn.Linear(4, 4), nn.GELU(), nn.Linear(4, 2));
        var error = Assert.Throws<NotSupportedException>(() =>
            new DeepExplainer(ExplainableModel.Create(model), new[] { Rand(1, 3, 4) }));
        Assert.Contains("'1'", error.Message);
        Assert.Contains("GELU", error.Message);
    }

    [Fact]
    public void Two_inputs_and_all_outputs_add_up_and_all_execution_strategies_agree()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new TwoInputNet(8));
        var background = new[] { Rand(61, 5, 3), Rand(62, 5, 1, 6, 6) };
        var x = new[] { Rand(63, 3, 3), Rand(64, 3, 1, 6, 6) };
        using var explainer = new DeepExplainer(model, background, inputNames: new[] { "v", "image" });
        using var e = explainer.Explain(x, new DeepExplainOptions { MaxBatchRows = 6 });
        Assert.True(AdditivityGap(model, x, background, e) < 1e-10);
        explainer.ReplicateOutputs = true;
        using var replicated = explainer.Explain(x, new DeepExplainOptions { MaxBatchRows = 6 });
        explainer.ReplicateOutputs = false;
        // A 1-byte budget disables the cached reference pass: each batch runs its own.
        using var uncached = explainer.Explain(x, new DeepExplainOptions { MaxBatchRows = 6, MemoryBudgetBytes = 1 });
        var naive = explainer.ExplainOneSampleAtATime(x);
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 2; i++)
            {
                Assert.True(e[o, i].allclose(naive[o][i], rtol: 0, atol: 1e-12), $"output {o} input {i}");
                Assert.True(e[o, i].allclose(replicated[o, i], rtol: 0, atol: 1e-12), $"replicated: output {o} input {i}");
                Assert.True(e[o, i].allclose(uncached[o, i], rtol: 0, atol: 1e-12), $"uncached: output {o} input {i}");
            }
    }

    [Fact]
    public void Ranked_outputs_explain_each_samples_top_outputs()
    {
        using var scope = NewDisposeScope();
        var (module, shape) = Build("Softmax");
        var model = ExplainableModel.Create(module);
        var background = Rand(71, shape.Prepend(5L).ToArray());
        var x = Rand(72, shape.Prepend(4L).ToArray()) * 3;
        using var explainer = new DeepExplainer(model, new[] { background }, labels: new[] { "a", "b", "c", "d" });
        using var all = explainer.Explain(new[] { x });
        using var ranked = explainer.Explain(new[] { x }, new DeepExplainOptions { RankedOutputs = 2, OutputRankOrder = OutputRankOrder.Min });
        Assert.True(ranked.IsRanked);
        Assert.Equal(2, ranked.OutputCount);
        var fx = model.Forward(x);
        var expectedOrder = fx.argsort(1).narrow(1, 0, 2);
        Assert.True(ranked.OutputIndexes!.IsEqual(expectedOrder));
        for (long s = 0; s < 4; s++)
            for (int rank = 0; rank < 2; rank++)
            {
                int output = (int)expectedOrder[s, rank].item<long>();
                Assert.True(ranked[rank, 0][s].allclose(all[output, 0][s], rtol: 0, atol: 1e-12));
            }
    }

    [Fact]
    public void Bad_inputs_give_clear_errors_and_leave_the_explainer_usable()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(Seq(1, nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3)));
        var background = Rand(81, 6, 5);
        using var explainer = new DeepExplainer(model, new[] { background }, inputNames: new[] { "features" });
        var good = Rand(82, 2, 5);

        var count = Assert.Throws<ArgumentException>(() => explainer.Explain(new[] { good, good }));
        Assert.Contains("1 input", count.Message);
        var shape = Assert.Throws<ArgumentException>(() => explainer.Explain(new[] { Rand(1, 2, 4) }));
        Assert.Contains("[4]", shape.Message);
        Assert.Contains("[5]", shape.Message);
        Assert.Contains("features", shape.Message);
        var dtype = Assert.Throws<ArgumentException>(() => explainer.Explain(new[] { good.to_type(float32) }));
        Assert.Contains("Float32", dtype.Message);
        var nan = good.clone();
        nan[0, 0] = tensor(double.NaN);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => explainer.Explain(new[] { nan })).Message);
        var ranked = Assert.Throws<ArgumentOutOfRangeException>(() =>
            explainer.Explain(new[] { good }, new DeepExplainOptions { RankedOutputs = 4 }));
        Assert.Contains("3 outputs", ranked.Message);
        var disposed = Rand(1, 2, 5);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => explainer.Explain(new[] { disposed }));
        Assert.Contains("0 rows", Assert.Throws<ArgumentException>(() =>
            new DeepExplainer(model, new[] { zeros(0, 5, dtype: float64) })).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() =>
            new DeepExplainer(model, new[] { full(2, 5, double.PositiveInfinity, dtype: float64) })).Message);
        Assert.Contains("labels", Assert.Throws<ArgumentException>(() =>
            new DeepExplainer(model, new[] { background }, labels: new[] { "a" })).Message);

        using var e = explainer.Explain(new[] { good });
        Assert.True(AdditivityGap(model, new[] { good }, new[] { background }, e) < 1e-10);
    }

    [Fact]
    public void Cancellation_stops_between_batches_and_progress_reaches_the_total_once()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(Seq(1, nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3)));
        var background = Rand(91, 10, 5);
        var x = Rand(92, 4, 5);
        using var explainer = new DeepExplainer(model, new[] { background });

        var reports = new List<ExplainProgress>();
        var progress = new SyncProgress(reports.Add);
        using (explainer.Explain(new[] { x }, new DeepExplainOptions { MaxBatchRows = 8, Progress = progress })) { }
        Assert.Equal(10, reports.Count);
        Assert.Single(reports, r => r.Done == r.Total);
        Assert.Equal(new ExplainProgress(40, 40), reports[^1]);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.Done < p.Second.Done));

        using var cts = new CancellationTokenSource();
        int calls = 0;
        var cancelling = new SyncProgress(_ => { calls++; cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            explainer.Explain(new[] { x }, new DeepExplainOptions { MaxBatchRows = 8, Progress = cancelling }, cts.Token));
        Assert.Equal(1, calls);
        using var after = explainer.Explain(new[] { x });
        Assert.Equal(3, after.OutputCount);
    }

    private sealed class SyncProgress : IProgress<ExplainProgress>
    {
        private readonly Action<ExplainProgress> _report;

        public SyncProgress(Action<ExplainProgress> report) => _report = report;

        public void Report(ExplainProgress value) => _report(value);
    }
}
