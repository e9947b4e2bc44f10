using System;
using System.Linq;
using System.Threading;
using ShapGen.Tests.Gradient;
using TorchSharp;
using Xunit;
using static ShapGen.Tests.Perturbation.PerturbationTestModels;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

/// <summary>Tests that read process-wide tensor counts run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PerturbationSequentialCollection
{
    public const string Name = "Perturbation reliability (sequential)";
}

[Collection(PerturbationSequentialCollection.Name)]
public sealed class PerturbationReliabilityTests
{
    [Fact]
    public void Repeated_explanations_of_every_method_keep_the_live_tensor_count_flat()
    {
        var model = TwoInputs();
        var x = new[] { randn(3, 3, 5, dtype: float64), randn(3, 4, dtype: float64) };
        var baselines = new[] { zeros(3, 5, dtype: float64), zeros(3, 4, dtype: float64) };
        void Once()
        {
            using (var a = new FeatureAblation(model).Explain(x, new FeatureAblationOptions { MaxBatchRows = 7, RankedOutputs = 2, Baselines = baselines }))
                Assert.Equal(2, a.OutputCount);
            using (var o = new Occlusion(model).Explain(x, new OcclusionOptions { SlidingWindowShapes = new[] { new long[] { 2, 2 }, new long[] { 3 } }, MaxBatchRows = 5 }))
                Assert.Equal(3, o.OutputCount);
            using (var s = new ShapleyValueSampling(model).Explain(x, new ShapleyValueSamplingOptions { NSamples = 2, MaxBatchRows = 9, Seed = 1 }))
                Assert.Equal(3, s.OutputCount);
        }
        Once();
        GC.Collect(); GC.WaitForPendingFinalizers();
        long before = Tensor.TotalCount;
        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) Once();
        GC.Collect(); GC.WaitForPendingFinalizers();
        Assert.Equal(liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(Tensor.TotalCount - before <= 2, $"live tensors grew from {before} to {Tensor.TotalCount}");
        foreach (var t in x.Concat(baselines)) t.Dispose();
    }

    [Fact]
    public void Progress_reaches_the_total_once_and_cancelling_stops_within_a_batch()
    {
        using var scope = NewDisposeScope();
        var model = SixModel();
        var x = randn(4, 6, dtype: float64);
        var progress = new RecordingProgress();
        using (new ShapleyValueSampling(model).Explain(new[] { x }, new ShapleyValueSamplingOptions { NSamples = 5, MaxBatchRows = 13, Progress = progress }))
        {
        }
        long total = 2 * 4 + 4 * 5 * 5; // f(x), f(baseline), then 5 permutations × 5 inner steps per sample
        Assert.All(progress.Reports, r => Assert.Equal(total, r.Total));
        Assert.Single(progress.Reports, r => r.Done == total);
        for (int i = 1; i < progress.Reports.Count; i++) Assert.True(progress.Reports[i].Done > progress.Reports[i - 1].Done);

        using var cts = new CancellationTokenSource();
        int after = 0;
        var cancelling = new RecordingProgress(p => { if (cts.IsCancellationRequested) after++; if (p.Done >= 26) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => new FeatureAblation(model).Explain(new[] { x },
            new FeatureAblationOptions { MaxBatchRows = 13, Progress = cancelling }, cts.Token));
        Assert.Equal(0, after);
        Assert.Equal(26, cancelling.Reports.Last().Done);
    }
}
