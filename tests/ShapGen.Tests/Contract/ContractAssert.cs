using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Contract;

/// <summary>The checks every engine and method owes its callers, shared by the engine and method contract tests.</summary>
internal static class ContractAssert
{
    /// <summary>Progress was reported, against one total, rising, and reached Done == Total exactly once, at the end.</summary>
    public static void ProgressRisesToDoneOnce(IReadOnlyList<ExplainProgress> reports)
    {
        Assert.NotEmpty(reports);
        Assert.Single(reports, r => r.Done == r.Total);
        Assert.Equal(reports[^1].Total, reports[^1].Done);
        Assert.All(reports, r => Assert.Equal(reports[0].Total, r.Total));
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.Done < p.Second.Done), "progress must rise");
    }

    /// <summary>After one warm-up call, fifteen more calls of <paramref name="once"/> leave at most two more live tensors.</summary>
    public static void LeavesNoLiveTensors(string name, Action once)
    {
        once();
        GC.Collect(); GC.WaitForPendingFinalizers();
        long before = Tensor.TotalCount;
        for (int i = 0; i < 15; i++) once();
        GC.Collect(); GC.WaitForPendingFinalizers();
        Assert.True(Tensor.TotalCount - before <= 2, $"{name}: live tensors grew from {before} to {Tensor.TotalCount}");
    }
}
