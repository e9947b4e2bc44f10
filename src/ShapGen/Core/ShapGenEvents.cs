using System;
using Microsoft.Extensions.Logging;

namespace ShapGen;

/// <summary>
/// The events ShapGen logs through <see cref="ExplainOptions.Logger"/>, with their ids and structured fields
/// (<c>Engine</c>, <c>Rows</c>, <c>NewRows</c>, <c>Bytes</c>, …) so that a log pipeline can filter and count them.
/// </summary>
public static class ShapGenEvents
{
    /// <summary>A batch ran out of memory and is retried at half its size (Warning).</summary>
    public static readonly EventId BatchHalved = new(1001, nameof(BatchHalved));

    /// <summary>The batch budget was lowered by a process limit (address space or cgroup) below the host's free memory (Information).</summary>
    public static readonly EventId BudgetLimited = new(1002, nameof(BudgetLimited));

    /// <summary>A batch took longer than a second: cancellation waits that long (Information).</summary>
    public static readonly EventId SlowBatch = new(1003, nameof(SlowBatch));

    /// <summary>An engine fell back to a slower path, e.g. DeepExplainer without its reference cache (Debug).</summary>
    public static readonly EventId Fallback = new(1004, nameof(Fallback));

    /// <summary>How batches were sized: rows per batch, bytes per row, budget (Debug).</summary>
    public static readonly EventId BatchSized = new(1005, nameof(BatchSized));

    private static readonly Action<ILogger, string, long, long, string, Exception?> s_batchHalved =
        LoggerMessage.Define<string, long, long, string>(LogLevel.Warning, BatchHalved,
            "ShapGen {Engine}: out of memory with a batch of {Rows} units; retrying with {NewRows}. ({Reason})");

    private static readonly Action<ILogger, long, string, long, Exception?> s_budgetLimited =
        LoggerMessage.Define<long, string, long>(LogLevel.Information, BudgetLimited,
            "ShapGen: the batch budget is {Bytes} bytes, limited by {Limit} ({Headroom} bytes left to the process).");

    private static readonly Action<ILogger, string, long, double, Exception?> s_slowBatch =
        LoggerMessage.Define<string, long, double>(LogLevel.Information, SlowBatch,
            "ShapGen {Engine}: a batch of {Rows} units took {Seconds:F1} s; cancellation is checked between batches.");

    private static readonly Action<ILogger, string, string, Exception?> s_fallback =
        LoggerMessage.Define<string, string>(LogLevel.Debug, Fallback, "ShapGen {Engine}: {Reason}");

    private static readonly Action<ILogger, string, long, double, long, Exception?> s_batchSized =
        LoggerMessage.Define<string, long, double, long>(LogLevel.Debug, BatchSized,
            "ShapGen {Engine}: {Rows} rows per batch ({BytesPerRow:F0} bytes per row, budget {Bytes} bytes).");

    internal static void LogBatchHalved(this ILogger? logger, string engine, long rows, long newRows, string reason)
    {
        if (logger is not null) s_batchHalved(logger, engine, rows, newRows, reason, null);
    }

    internal static void LogBudgetLimited(this ILogger? logger, long bytes, string limit, long headroom)
    {
        if (logger is not null) s_budgetLimited(logger, bytes, limit, headroom, null);
    }

    internal static void LogSlowBatch(this ILogger? logger, string engine, long rows, double seconds)
    {
        if (logger is not null) s_slowBatch(logger, engine, rows, seconds, null);
    }

    internal static void LogFallback(this ILogger? logger, string engine, string reason)
    {
        if (logger is not null) s_fallback(logger, engine, reason, null);
    }

    internal static void LogBatchSized(this ILogger? logger, string engine, long rows, double bytesPerRow, long budget)
    {
        if (logger is not null) s_batchSized(logger, engine, rows, bytesPerRow, budget, null);
    }
}
