using System;
using System.Diagnostics;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// The batching machinery every engine uses: batch sizing from one memory budget, a loop that halves its batch on
/// out-of-memory errors (logged as <see cref="ShapGenEvents.BatchHalved"/>), checks cancellation before every batch
/// and reports progress after every batch (reaching Done == Total exactly once).
/// </summary>
internal static class Batching
{
    /// <summary>Rows per batch on the CPU when memory allows and rows are cheap (see <see cref="CpuWorkingSetBytes"/>).</summary>
    internal const long CpuTargetRows = 2048;

    /// <summary>
    /// Bytes one CPU batch should touch: its measured bytes per row × rows. Past the caches a wider batch streams its
    /// activations through memory once more per layer and runs slower per row, not faster (measured with
    /// <c>ShapGen.Benchmarks rows</c>: a CNN at 1.5 MB per row ran 4.4 s at 2,048 rows and 0.57–0.70 s at 64–256; a
    /// tabular MLP at 424 bytes per row ran fastest at 2,048).
    /// </summary>
    internal const long CpuWorkingSetBytes = 128L << 20;

    /// <summary>The fewest rows the working-set rule leaves a CPU batch, so that per-call overhead stays small.</summary>
    internal const long CpuMinWorkingSetRows = 16;

    /// <summary>Rows per batch on CUDA when memory allows.</summary>
    internal const long CudaTargetRows = 32768;

    /// <summary>Bytes assumed usable on a CUDA device (TorchSharp 0.107 exposes no free-memory query).</summary>
    internal const long DefaultCudaBudgetBytes = 4L << 30;

    /// <summary>Upper bound of the CPU budget, whatever the machine has free.</summary>
    internal const long MaxCpuBudgetBytes = 4L << 30;

    /// <summary>A batch slower than this is logged (<see cref="ShapGenEvents.SlowBatch"/>): cancellation waits for it.</summary>
    private static readonly TimeSpan SlowBatch = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The byte budget of one batch: <see cref="ExplainOptions.MemoryBudgetBytes"/> when set; on the CPU a quarter
    /// of what the process may still allocate (<see cref="ProcessMemory.Headroom"/>; at most
    /// <see cref="MaxCpuBudgetBytes"/>); on CUDA <see cref="DefaultCudaBudgetBytes"/>.
    /// </summary>
    public static long BudgetBytes(Device device, ExplainOptions options)
    {
        if (options.MemoryBudgetBytes is long set) return set;
        if (device.type == DeviceType.CUDA) return DefaultCudaBudgetBytes;
        var (headroom, limit) = ProcessMemory.Headroom();
        long budget = Math.Max(1, Math.Min(MaxCpuBudgetBytes, headroom / 4));
        if (limit != ProcessMemory.HostLimit && budget < MaxCpuBudgetBytes)
            options.Logger.LogBudgetLimited(budget, limit, headroom);
        return budget;
    }

    /// <summary>
    /// Rows per batch: <see cref="ExplainOptions.MaxBatchRows"/> when set; otherwise the device's target row count,
    /// lowered so that <paramref name="bytesPerRow"/> × rows fits the budget; at least <paramref name="minRows"/>.
    /// On the CPU the target is <see cref="CpuWorkingSetRows"/>: small models batch wide, large activations narrow.
    /// </summary>
    public static long RowsPerBatch(double bytesPerRow, Device device, ExplainOptions options, string engine, long minRows = 1)
    {
        if (options.MaxBatchRows is int cap) return Math.Max(minRows, cap);
        long target = device.type == DeviceType.CUDA ? CudaTargetRows : CpuWorkingSetRows(bytesPerRow);
        long budget = BudgetBytes(device, options);
        long fit = bytesPerRow <= 0 ? target : (long)Math.Floor(budget / bytesPerRow);
        long rows = Math.Max(minRows, Math.Min(target, fit));
        options.Logger.LogBatchSized(engine, rows, bytesPerRow, budget);
        return rows;
    }

    /// <summary>
    /// The CPU target: the rows whose bytes fit <see cref="CpuWorkingSetBytes"/>, between
    /// <see cref="CpuMinWorkingSetRows"/> and <see cref="CpuTargetRows"/>, rounded down to a power of two so that the
    /// small differences between one probe's measure and the next do not change the batches (set
    /// <see cref="ExplainOptions.MaxBatchRows"/> to fix them outright: float32 sums can differ in the last bit
    /// between batch sizes).
    /// </summary>
    internal static long CpuWorkingSetRows(double bytesPerRow)
    {
        if (bytesPerRow <= 0) return CpuTargetRows;
        long rows = (long)Math.Clamp(CpuWorkingSetBytes / bytesPerRow, CpuMinWorkingSetRows, CpuTargetRows);
        return 1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)rows));
    }

    /// <summary>
    /// Runs <paramref name="body"/> in a fresh dispose scope and returns the bytes held by the tensors it created
    /// that are still alive when it returns (an estimate of a batch's memory); then frees them.
    /// </summary>
    public static long MeasureScopeBytes(Action body)
    {
        using var scope = NewDisposeScope();
        body();
        long bytes = 0;
        foreach (var d in scope.DisposablesView)
            if (d is Tensor t && !t.IsInvalid)
                bytes += t.numel() * t.ElementSize;
        return bytes;
    }

    /// <summary>
    /// Runs <paramref name="body"/> and returns the larger of what its live tensors hold
    /// (<see cref="MeasureScopeBytes"/>) and, on the CPU, how far the process's peak resident memory rose meanwhile
    /// (<see cref="ProcessMemory.PeakGrowth"/>): a forward and backward probe's real footprint.
    /// </summary>
    public static long MeasurePeakBytes(Device device, Action body)
    {
        long scopeBytes = 0;
        long peak = device.type == DeviceType.CPU ? ProcessMemory.PeakGrowth(() => scopeBytes = MeasureScopeBytes(body)) : 0;
        if (device.type != DeviceType.CPU) scopeBytes = MeasureScopeBytes(body);
        return Math.Max(scopeBytes, peak);
    }

    /// <summary>True for libtorch's out-of-memory errors on the CPU or CUDA.</summary>
    public static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException
        || e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("Tried to allocate", StringComparison.Ordinal);

    /// <summary>
    /// Processes <paramref name="total"/> units in batches of <paramref name="unitsPerBatch"/>: checks
    /// <paramref name="cancellationToken"/> before each batch, calls <paramref name="body"/>(start, count) inside
    /// its own dispose scope, and reports progress after each batch. On an out-of-memory error the batch is halved
    /// and retried (logged), down to <paramref name="minUnits"/>, below which the error is rethrown.
    /// </summary>
    /// <returns>The batch size in units that was in use at the end (after any halving).</returns>
    public static long Run(long total, long unitsPerBatch, Action<long, long> body, ExplainOptions options,
                           CancellationToken cancellationToken, string engine, long minUnits = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(total, 1);
        long batch = Math.Max(minUnits, Math.Min(unitsPerBatch, total));
        long start = 0;
        bool slowLogged = false;
        var clock = new Stopwatch();
        while (start < total)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long count = Math.Min(batch, total - start);
            clock.Restart();
            try
            {
                using var scope = NewDisposeScope();
                body(start, count);
            }
            catch (Exception e) when (IsOutOfMemory(e) && count > minUnits)
            {
                long halved = Math.Max(minUnits, count / 2);
                options.Logger.LogBatchHalved(engine, count, halved, e.Message.Split('\n')[0]);
                batch = halved;
                continue;
            }
            if (!slowLogged && clock.Elapsed > SlowBatch)
            {
                options.Logger.LogSlowBatch(engine, count, clock.Elapsed.TotalSeconds);
                slowLogged = true;
            }
            start += count;
            options.Progress?.Report(new ExplainProgress(start, total));
        }
        return batch;
    }
}

/// <summary>
/// Reports a part of a call's work into the call's progress: <c>Done</c> of the part, times
/// <c>unitsPerPartUnit</c>, plus <c>offset</c>, out of the call's <c>total</c>. The part never reports the end
/// unless <c>isLast</c>, so the call reaches Done == Total exactly once.
/// </summary>
internal sealed class ProgressSlice : IProgress<ExplainProgress>
{
    private readonly IProgress<ExplainProgress> _target;
    private readonly long _offset, _unitsPerPartUnit, _total;
    private readonly bool _isLast;

    private ProgressSlice(IProgress<ExplainProgress> target, long offset, long unitsPerPartUnit, long total, bool isLast) =>
        (_target, _offset, _unitsPerPartUnit, _total, _isLast) = (target, offset, unitsPerPartUnit, total, isLast);

    /// <summary>A slice of <paramref name="target"/>, or null when there is no progress to report to.</summary>
    public static ProgressSlice? Of(IProgress<ExplainProgress>? target, long offset, long unitsPerPartUnit, long total, bool isLast = false) =>
        target is null ? null : new ProgressSlice(target, offset, unitsPerPartUnit, total, isLast);

    public void Report(ExplainProgress value)
    {
        long done = _offset + value.Done * _unitsPerPartUnit;
        if (done < _total || (_isLast && done == _total)) _target.Report(new ExplainProgress(done, _total));
    }
}
