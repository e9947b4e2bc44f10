using ShapGen;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Core;

/// <summary>How <see cref="Batching.RowsPerBatch"/> sizes CPU batches: by the working set, the budget and the caller's cap.</summary>
public class BatchingTests
{
    private const double MiB = 1 << 20;

    [Fact]
    public void Cheap_rows_batch_at_the_cpu_target()
    {
        Assert.Equal(Batching.CpuTargetRows, Batching.RowsPerBatch(1024, CPU, new ExplainOptions(), "test"));
        Assert.Equal(Batching.CpuTargetRows, Batching.RowsPerBatch(0, CPU, new ExplainOptions(), "test"));
    }

    [Fact]
    public void Large_rows_batch_to_the_working_set()
    {
        long rows = Batching.RowsPerBatch(1 * MiB, CPU, new ExplainOptions(), "test");
        Assert.Equal(Batching.CpuWorkingSetBytes / (1 << 20), rows);
        Assert.True(rows < Batching.CpuTargetRows);
    }

    [Fact]
    public void The_working_set_rule_keeps_a_floor_of_rows()
    {
        var roomy = new ExplainOptions { MemoryBudgetBytes = 1L << 40 };
        Assert.Equal(Batching.CpuMinWorkingSetRows, Batching.RowsPerBatch(1024 * MiB, CPU, roomy, "test"));
    }

    [Fact]
    public void The_memory_budget_goes_below_the_floor()
    {
        var options = new ExplainOptions { MemoryBudgetBytes = 10 * (1L << 20) };
        Assert.Equal(10, Batching.RowsPerBatch(1 * MiB, CPU, options, "test"));
    }

    [Fact]
    public void MaxBatchRows_overrides_every_rule()
    {
        Assert.Equal(5000, Batching.RowsPerBatch(1 * MiB, CPU, new ExplainOptions { MaxBatchRows = 5000 }, "test"));
    }
}
