using ShapGen;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Core;

/// <summary>How <see cref="Batching.RowsPerBatch"/> sizes CPU batches: the fixed target, the budget and the caller's cap.</summary>
public class BatchingTests
{
    private const double MiB = 1 << 20;

    [Theory]
    [InlineData(0)]
    [InlineData(1024)]
    [InlineData(1 << 20)]
    public void Cpu_batches_take_the_fixed_target_whatever_a_row_costs_when_memory_allows(double bytesPerRow)
    {
        var roomy = new ExplainOptions { MemoryBudgetBytes = 1L << 40 };
        Assert.Equal(Batching.CpuTargetRows, Batching.RowsPerBatch(bytesPerRow, CPU, roomy, "test"));
    }

    [Fact]
    public void The_memory_budget_lowers_the_target()
    {
        var options = new ExplainOptions { MemoryBudgetBytes = 10 * (1L << 20) };
        Assert.Equal(10, Batching.RowsPerBatch(1 * MiB, CPU, options, "test"));
    }

    [Fact]
    public void The_minimum_wins_over_the_budget()
    {
        var options = new ExplainOptions { MemoryBudgetBytes = 1 };
        Assert.Equal(2, Batching.RowsPerBatch(1 * MiB, CPU, options, "test", minRows: 2));
    }

    [Fact]
    public void MaxBatchRows_overrides_every_rule()
    {
        Assert.Equal(5000, Batching.RowsPerBatch(1 * MiB, CPU, new ExplainOptions { MaxBatchRows = 5000 }, "test"));
    }
}
