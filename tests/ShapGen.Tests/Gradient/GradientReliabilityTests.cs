using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

/// <summary>Tests that read process-wide tensor counts run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GradientSequentialCollection
{
    public const string Name = "Gradient reliability (sequential)";
}

[Collection(GradientSequentialCollection.Name)]
public sealed class GradientReliabilityTests
{
    [Fact]
    public void Repeated_explanations_keep_the_live_tensor_count_flat()
    {
        var model = ExplainableModel.Create(new SmallMlp(6, 8, 3));
        var bg = randn(30, 6, dtype: float64);
        var x = randn(10, 6, dtype: float64);
        using var explainer = new GradientExplainer(model, new[] { bg });
        var options = new GradientExplainOptions { NSamples = 20, MaxBatchRows = 37, ReturnVariances = true, LocalSmoothing = 0.1, RankedOutputs = 2 };
        void Once()
        {
            using var result = explainer.Explain(new[] { x }, options);
            Assert.Equal(2, result.OutputCount);
        }
        Once();
        GC.Collect(); GC.WaitForPendingFinalizers();
        long before = Tensor.TotalCount;
        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 60; i++) Once();   // 60 calls × 6 batches
        GC.Collect(); GC.WaitForPendingFinalizers();
        Assert.Equal(liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(Tensor.TotalCount - before <= 2, $"live tensors grew from {before} to {Tensor.TotalCount}");
        x.Dispose(); bg.Dispose();
    }

    [Fact]
    public void Cancelling_stops_within_one_batch_and_frees_what_it_allocated()
    {
        var model = ExplainableModel.Create(new SmallMlp(6, 8, 3));
        using var bg = randn(30, 6, dtype: float64);
        using var x = randn(20, 6, dtype: float64);
        using var explainer = new GradientExplainer(model, new[] { bg });
        _ = explainer.ExpectedValues; // evaluated now, so the call's progress counts draws only
        using var cts = new CancellationTokenSource();
        int reportsAfterCancel = 0;
        var progress = new RecordingProgress(p =>
        {
            if (cts.IsCancellationRequested) reportsAfterCancel++;
            if (p.Done >= 100) cts.Cancel();
        });
        GC.Collect(); GC.WaitForPendingFinalizers();
        long before = Tensor.TotalCount;
        Assert.ThrowsAny<OperationCanceledException>(() =>
            explainer.Explain(new[] { x }, new GradientExplainOptions { NSamples = 50, MaxBatchRows = 50, Progress = progress }, cts.Token));
        Assert.Equal(0, reportsAfterCancel);
        Assert.Equal(100, progress.Reports.Last().Done);
        Assert.True(progress.Reports.Last().Done < 20 * 50);
        GC.Collect(); GC.WaitForPendingFinalizers();
        Assert.Equal(before, Tensor.TotalCount);
        // Still usable afterwards.
        using var result = explainer.Explain(new[] { x }, new GradientExplainOptions { NSamples = 5 });
        Assert.Equal(x.shape, result[0, 0].shape);
    }

    [Fact]
    public void An_already_cancelled_token_throws_before_any_work()
    {
        var model = ExplainableModel.Create(new SmallMlp(3, 4, 2));
        using var bg = randn(5, 3, dtype: float64);
        using var explainer = new GradientExplainer(model, new[] { bg });
        var progress = new RecordingProgress();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            explainer.Explain(new[] { bg }, new GradientExplainOptions { Progress = progress }, new CancellationToken(true)));
        Assert.Empty(progress.Reports);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(7)]
    [InlineData(33)]
    public void Progress_is_monotonic_and_reaches_the_total_exactly_once(int? maxRows)
    {
        var model = ExplainableModel.Create(new SmallMlp(4, 5, 2));
        using var bg = randn(10, 4, dtype: float64);
        using var x = randn(9, 4, dtype: float64);
        using var explainer = new GradientExplainer(model, new[] { bg });
        // The first call also evaluates the 10 background rows (E[f] is lazy); later calls count the draws only.
        foreach (long total in new long[] { 10 + 9 * 11, 9 * 11 })
        {
            var progress = new RecordingProgress();
            using var result = explainer.Explain(new[] { x }, new GradientExplainOptions { NSamples = 11, MaxBatchRows = maxRows, Progress = progress });
            var reports = progress.Reports;
            Assert.NotEmpty(reports);
            Assert.All(reports, r => Assert.Equal(total, r.Total));
            Assert.Single(reports, r => r.Done == r.Total);
            Assert.Equal(reports.Last().Total, reports.Last().Done);
            for (int i = 1; i < reports.Count; i++) Assert.True(reports[i].Done > reports[i - 1].Done);
        }
    }

    [Fact]
    public async Task Two_explainers_on_one_model_from_two_threads_equal_sequential_results()
    {
        var net = new SmallMlp(5, 6, 3);
        var model = ExplainableModel.Create(net);
        using var bg = randn(25, 5, dtype: float64);
        using var x = randn(8, 5, dtype: float64);
        using var inputExplainer = new GradientExplainer(model, new[] { bg });
        using var layerExplainer = new GradientExplainer(model, new[] { bg }, layer: "head");
        Tensor[] Run(GradientExplainer e, long seed)
        {
            using var r = e.Explain(new[] { x }, new GradientExplainOptions { Seed = seed, NSamples = 40, MaxBatchRows = 64, ReturnVariances = true });
            return Enumerable.Range(0, 3).Select(o => r[o, 0].clone().DetachFromDisposeScope()).ToArray();
        }
        var sequentialA = Run(inputExplainer, 1);
        var sequentialB = Run(layerExplainer, 2);
        Tensor[]? parallelA = null, parallelB = null;
        using (var start = new Barrier(2))
        {
            var a = Task.Run(() => { start.SignalAndWait(); for (int i = 0; i < 5; i++) parallelA = Run(inputExplainer, 1); });
            var b = Task.Run(() => { start.SignalAndWait(); for (int i = 0; i < 5; i++) parallelB = Run(layerExplainer, 2); });
            await Task.WhenAll(a, b);
        }
        for (int o = 0; o < 3; o++)
        {
            Assert.True(sequentialA[o].equal(parallelA![o]).all().item<bool>());
            Assert.True(sequentialB[o].equal(parallelB![o]).all().item<bool>());
        }
    }

    [Fact]
    public void Batching_halves_on_out_of_memory_logs_it_and_processes_every_unit_once()
    {
        var seen = new List<(long Start, long Count)>();
        var log = new ListLogger();
        var progress = new RecordingProgress();
        var options = new ExplainOptions { Logger = log, Progress = progress };
        long final = Batching.Run(100, 40, (start, count) =>
        {
            if (count > 12) throw new InvalidOperationException("CUDA out of memory. Tried to allocate 2.00 GiB");
            seen.Add((start, count));
        }, options, CancellationToken.None, "test");
        Assert.Equal(10, final);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i),
                     seen.SelectMany(s => Enumerable.Range((int)s.Start, (int)s.Count).Select(i => (long)i)));
        Assert.Equal(2, log.Entries.Count);
        Assert.All(log.Entries, e => Assert.Equal(ShapGenEvents.BatchHalved, e.Id));
        Assert.Contains(new KeyValuePair<string, object?>("Rows", 40L), log.Entries[0].Fields);
        Assert.Contains(new KeyValuePair<string, object?>("NewRows", 20L), log.Entries[0].Fields);
        Assert.Single(progress.Reports, r => r.Done == 100);
        // A single unit that does not fit is an error.
        Assert.Throws<InvalidOperationException>(() =>
            Batching.Run(5, 4, (_, _) => throw new InvalidOperationException("out of memory"), options, CancellationToken.None, "test"));
    }
}
