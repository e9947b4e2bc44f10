using System;
using System.Linq;
using System.Threading;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

[Collection(GradientSequentialCollection.Name)]
public sealed class GradientMethodReliabilityTests
{
    private static readonly ExplainableModel Model = ExplainableModel.Create(new SmallMlp(3, 4, 2));

    public static TheoryData<string, Action, string> BadInputs()
    {
        var x = randn(2, 3, dtype: float64);
        var ig = new IntegratedGradients(Model, inputNames: new[] { "features" });
        var data = new TheoryData<string, Action, string>
        {
            { "baseline shape", () => ig.Explain(new[] { x }, new[] { zeros(3, 3, dtype: float64) }), "'baselines' input 0 ('features') has shape [3, 3]; expected the per-sample shape [3], [1, 3] or [2, 3]" },
            { "baseline count", () => ig.Explain(new[] { x }, new[] { zeros(3, dtype: float64), zeros(3, dtype: float64) }), "'baselines' has 2 tensor(s)" },
            { "baseline dtype", () => ig.Explain(new[] { x }, new[] { zeros(3) }), "'baselines' input 0 ('features') is Float32; the input is Float64" },
            { "baseline NaN", () => ig.Explain(new[] { x }, new[] { full(3, double.NaN, dtype: float64) }), "'baselines' input 0 ('features') contains NaN" },
            { "input dtype", () => ig.Explain(new[] { randn(2, 3) }), "is Float32 but the model's parameters are Float64" },
            { "input count", () => ig.Explain(new[] { x, x }), "The model takes 1 input(s); 'inputs' has 2" },
            { "input NaN", () => ig.Explain(new[] { full(2, 3, double.NaN, dtype: float64) }), "'inputs' input 0 ('features') contains NaN" },
            { "target range", () => ig.Explain(new[] { x }, null, new IntegratedGradientsOptions { Target = 2 }), "Target must be between 0 and 1 (the model has 2 outputs); it is 2" },
            { "target and ranked", () => ig.Explain(new[] { x }, null, new IntegratedGradientsOptions { Target = 0, RankedOutputs = 1 }), "either Target or RankedOutputs" },
            { "ranked range", () => ig.Explain(new[] { x }, null, new IntegratedGradientsOptions { RankedOutputs = 3 }), "RankedOutputs must be between 1 and the model's 2 outputs" },
            { "trapezoid steps", () => ig.Explain(new[] { x }, null, new IntegratedGradientsOptions { Method = IntegrationMethod.RiemannTrapezoid, NSteps = 1 }), "at least 2 for the trapezoid rule" },
            { "stdev count", () => new Saliency(Model).Explain(new[] { x }, new SaliencyOptions { NoiseTunnel = new NoiseTunnelOptions { Stdevs = new[] { 0.1, 0.2 } } }), "Stdevs has 2 values" },
            { "delta with tunnel", () => ig.Explain(new[] { x }, null, new IntegratedGradientsOptions { NoiseTunnel = new NoiseTunnelOptions() }, out _), "not defined under a noise tunnel" },
            { "NSteps", () => new IntegratedGradientsOptions { NSteps = 0 }, "NSteps must be at least 1" },
            { "Method", () => new IntegratedGradientsOptions { Method = (IntegrationMethod)9 }, "Unknown integration method" },
            { "Target", () => new SaliencyOptions { Target = -1 }, "Target must be a model output index" },
            { "NSamples", () => new NoiseTunnelOptions { NSamples = 0 }, "NSamples must be at least 1" },
            { "Stdevs", () => new NoiseTunnelOptions { Stdevs = new[] { -0.1 } }, "finite and ≥ 0" },
            { "Stdevs empty", () => new NoiseTunnelOptions { Stdevs = Array.Empty<double>() }, "it is empty" },
            { "Type", () => new NoiseTunnelOptions { Type = (NoiseTunnelType)5 }, "Unknown noise tunnel type" },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_gets_a_clear_error(string what, Action call, string message)
    {
        var e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"{what}: message was '{e.Message}'");
    }

    [Fact]
    public void A_detached_model_is_an_error_unless_the_output_does_not_change()
    {
        var model = ExplainableModel.Create(new DetachedNet());
        using var x = tensor(new double[,] { { 1, 2 } });
        var e = Assert.Throws<InvalidOperationException>(() => new Saliency(model).Explain(new[] { x }));
        Assert.Contains("detached from its inputs", e.Message);
        Assert.Throws<InvalidOperationException>(() => new IntegratedGradients(model).Explain(new[] { x }));
        // f(x) = f(b): 0 is the right answer.
        using var result = new IntegratedGradients(model).Explain(new[] { x }, new[] { tensor(new double[] { -1, 2 }) });
        Assert.Equal(0.0, result[0, 0].abs().sum().item<double>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(4)]
    [InlineData(7)]
    public void Progress_is_monotonic_and_reaches_the_total_exactly_once(int? maxRows)
    {
        using var x = randn(5, 3, dtype: float64);
        var progress = new RecordingProgress();
        using var result = new IntegratedGradients(Model).Explain(new[] { x }, null, new IntegratedGradientsOptions
        {
            NSteps = 6, MaxBatchRows = maxRows, Progress = progress, NoiseTunnel = new NoiseTunnelOptions { NSamples = 2, Stdevs = new[] { 0.1 } },
        });
        var reports = progress.Reports;
        Assert.All(reports, r => Assert.Equal(5 * 2 * 6, r.Total));
        Assert.Single(reports, r => r.Done == r.Total);
        Assert.Equal(reports.Last().Total, reports.Last().Done);
        for (int i = 1; i < reports.Count; i++) Assert.True(reports[i].Done > reports[i - 1].Done);
    }

    [Fact]
    public void Cancelling_stops_within_one_batch_and_frees_what_it_allocated()
    {
        using var x = randn(20, 3, dtype: float64);
        using var cts = new CancellationTokenSource();
        int reportsAfterCancel = 0;
        var progress = new RecordingProgress(p =>
        {
            if (cts.IsCancellationRequested) reportsAfterCancel++;
            if (p.Done >= 35) cts.Cancel();
        });
        var ig = new IntegratedGradients(Model);
        GC.Collect(); GC.WaitForPendingFinalizers();
        long before = Tensor.TotalCount;
        Assert.ThrowsAny<OperationCanceledException>(() => ig.Explain(new[] { x }, null,
            new IntegratedGradientsOptions { NSteps = 10, MaxBatchRows = 7, Progress = progress }, cts.Token));
        Assert.Equal(0, reportsAfterCancel);
        Assert.Equal(35, progress.Reports.Last().Done);
        GC.Collect(); GC.WaitForPendingFinalizers();
        Assert.Equal(before, Tensor.TotalCount);
        Assert.ThrowsAny<OperationCanceledException>(() => ig.Explain(new[] { x }, null, null, new CancellationToken(true)));
    }

    [Fact]
    public void Repeated_explanations_keep_the_live_tensor_count_flat()
    {
        using var x = randn(6, 3, dtype: float64);
        var ig = new IntegratedGradients(Model);
        var saliency = new Saliency(Model);
        var options = new IntegratedGradientsOptions
        {
            NSteps = 5, MaxBatchRows = 7, RankedOutputs = 1, NoiseTunnel = new NoiseTunnelOptions { Type = NoiseTunnelType.VarGrad, NSamples = 3, Stdevs = new[] { 0.1 } },
        };
        void Once()
        {
            using (ig.Explain(new[] { x }, null, options)) { }
            using (ig.Explain(new[] { x }, null, new IntegratedGradientsOptions { MaxBatchRows = 13 }, out var delta)) delta.Dispose();
            using (saliency.Explain(new[] { x })) { }
            using (new InputXGradient(Model).Explain(new[] { x })) { }
        }
        Once();
        GC.Collect(); GC.WaitForPendingFinalizers();
        long before = Tensor.TotalCount;
        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) Once();
        GC.Collect(); GC.WaitForPendingFinalizers();
        Assert.Equal(liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(Tensor.TotalCount - before <= 2, $"live tensors grew from {before} to {Tensor.TotalCount}");
    }
}
