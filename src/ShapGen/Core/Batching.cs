using System;
using System.Globalization;
using System.IO;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Reusable batching machinery for the engines: batch sizing from a memory budget, a loop that halves its batch on
/// out-of-memory errors (and says so through <see cref="ExplainOptions.Log"/>), checks cancellation before every
/// batch and reports progress after every batch (reaching Done == Total exactly once).
/// </summary>
internal static class Batching
{
    /// <summary>Rows per batch on the CPU when memory allows: bigger batches stop paying off there.</summary>
    internal const long CpuTargetRows = 2048;

    /// <summary>Rows per batch on CUDA when memory allows.</summary>
    internal const long CudaTargetRows = 32768;

    /// <summary>Bytes assumed usable on a CUDA device (TorchSharp 0.107 exposes no free-memory query).</summary>
    internal const long DefaultCudaBudgetBytes = 4L << 30;

    /// <summary>Upper bound of the CPU budget, whatever the machine has free.</summary>
    internal const long MaxCpuBudgetBytes = 4L << 30;

    /// <summary>
    /// The byte budget of one batch: <see cref="ExplainOptions.MemoryBudgetBytes"/> when set; on the CPU a quarter
    /// of the host's available memory (at most <see cref="MaxCpuBudgetBytes"/>); on CUDA
    /// <see cref="DefaultCudaBudgetBytes"/>.
    /// </summary>
    public static long BudgetBytes(Device device, ExplainOptions options)
    {
        if (options.MemoryBudgetBytes is long set) return set;
        if (device.type == DeviceType.CUDA) return DefaultCudaBudgetBytes;
        return Math.Min(MaxCpuBudgetBytes, AvailableHostBytes() / 4);
    }

    /// <summary>Available host memory: MemAvailable from /proc/meminfo on Linux, else what the GC reports.</summary>
    public static long AvailableHostBytes()
    {
        try
        {
            if (File.Exists("/proc/meminfo"))
                foreach (var line in File.ReadLines("/proc/meminfo"))
                    if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    {
                        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                    }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        catch (FormatException) { }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>
    /// Rows per batch: <see cref="ExplainOptions.MaxBatchRows"/> when set; otherwise the device's target row count,
    /// lowered so that <paramref name="bytesPerRow"/> × rows fits the budget; at least <paramref name="minRows"/>.
    /// On the CPU the target, not free memory, decides in the common case, so results stay reproducible.
    /// </summary>
    public static long RowsPerBatch(double bytesPerRow, Device device, ExplainOptions options, long minRows = 1)
    {
        if (options.MaxBatchRows is int cap) return Math.Max(minRows, cap);
        long target = device.type == DeviceType.CUDA ? CudaTargetRows : CpuTargetRows;
        long fit = bytesPerRow <= 0 ? target : (long)Math.Floor(BudgetBytes(device, options) / bytesPerRow);
        return Math.Max(minRows, Math.Min(target, fit));
    }

    /// <summary>
    /// Runs <paramref name="body"/> in a fresh dispose scope and returns the bytes held by the tensors it created
    /// that are still alive when it returns (an estimate of a batch's activation memory); then frees them.
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
                           CancellationToken cancellationToken, string what, long minUnits = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(total, 1);
        long batch = Math.Max(minUnits, Math.Min(unitsPerBatch, total));
        long start = 0;
        while (start < total)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long count = Math.Min(batch, total - start);
            try
            {
                using var scope = NewDisposeScope();
                body(start, count);
            }
            catch (Exception e) when (IsOutOfMemory(e) && count > minUnits)
            {
                long halved = Math.Max(minUnits, count / 2);
                options.Log?.Invoke(
                    $"ShapGen: {what}: out of memory with a batch of {count} units; retrying with {halved}. ({e.Message.Split('\n')[0]})");
                batch = halved;
                continue;
            }
            start += count;
            options.Progress?.Report(new ExplainProgress(start, total));
        }
        return batch;
    }
}
