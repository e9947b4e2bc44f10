using ShapGen;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Core;

/// <summary>How <see cref="Batching.RowsPerBatch"/> sizes CPU batches: by the working set, the budget and the caller's cap.</summary>
public class BatchingTests
{
    private const double MiB = 1 << 20;
    private static readonly ExplainOptions Roomy = new() { MemoryBudgetBytes = 1L << 40 };

    [Theory]
    [InlineData(0)]
    [InlineData(424)]
    public void Cheap_rows_batch_at_the_cpu_target(double bytesPerRow) =>
        Assert.Equal(2048, Batching.RowsPerBatch(bytesPerRow, CPU, Roomy, "test"));

    [Theory]
    [InlineData(1.0, 128)]          // 128 MiB / 1 MiB = 128 rows
    [InlineData(1.5, 64)]           // 85 rows, rounded down to a power of two
    [InlineData(0.4, 256)]          // 320 rows → 256
    [InlineData(1024.0, 16)]        // the floor
    public void Costly_rows_batch_to_the_working_set(double mibPerRow, long expected) =>
        Assert.Equal(expected, Batching.RowsPerBatch(mibPerRow * MiB, CPU, Roomy, "test"));

    [Fact]
    public void Measures_a_little_apart_give_the_same_batches() =>
        Assert.Equal(Batching.RowsPerBatch(1.48 * MiB, CPU, Roomy, "test"), Batching.RowsPerBatch(1.57 * MiB, CPU, Roomy, "test"));

    [Fact]
    public void The_memory_budget_goes_below_the_working_set()
    {
        var options = new ExplainOptions { MemoryBudgetBytes = 10 * (1L << 20) };
        Assert.Equal(10, Batching.RowsPerBatch(1 * MiB, CPU, options, "test"));
    }

    [Fact]
    public void The_minimum_wins_over_the_budget() =>
        Assert.Equal(2, Batching.RowsPerBatch(1 * MiB, CPU, new ExplainOptions { MemoryBudgetBytes = 1 }, "test", minRows: 2));

    [Fact]
    public void MaxBatchRows_overrides_every_rule() =>
        Assert.Equal(5000, Batching.RowsPerBatch(1 * MiB, CPU, new ExplainOptions { MaxBatchRows = 5000 }, "test"));
}
