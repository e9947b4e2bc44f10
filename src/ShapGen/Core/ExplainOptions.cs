using System;
using Microsoft.Extensions.Logging;

namespace ShapGen;

/// <summary>How ranked outputs are ordered (shap's <c>output_rank_order</c>).</summary>
public enum OutputRankOrder
{
    /// <summary>Largest model output first.</summary>
    Max,
    /// <summary>Smallest model output first.</summary>
    Min,
    /// <summary>Largest absolute model output first.</summary>
    MaxAbs,
}

/// <summary>Progress of an explanation: units of work done out of a total (model-evaluation rows).</summary>
/// <param name="Done">Units completed.</param>
/// <param name="Total">Units in all.</param>
public readonly record struct ExplainProgress(long Done, long Total)
{
    /// <summary>Fraction done, 0..1.</summary>
    public double Fraction => Total == 0 ? 1 : (double)Done / Total;
}

/// <summary>
/// What every explainer takes: output ranking, the seed and the index of the first explained sample for the random
/// draws, batching and the memory budget, progress and logging. Each engine's options type derives from it.
/// </summary>
/// <remarks>
/// Setters check their value and throw <see cref="ArgumentOutOfRangeException"/> naming the option, so a bad value
/// fails where it is written. Checks that need the model (ranked outputs against the output count) run when an
/// explainer is called. Cancellation is not an option: it is the <c>CancellationToken</c> argument of each call.
/// </remarks>
public class ExplainOptions
{
    private int? _rankedOutputs;
    private OutputRankOrder _outputRankOrder = OutputRankOrder.Max;
    private long _sampleIndexOffset;
    private int? _maxBatchRows;
    private long? _memoryBudgetBytes;

    /// <summary>Creates options with the defaults.</summary>
    public ExplainOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public ExplainOptions(ExplainOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        // Every option must be copied here (and in each derived copy constructor): an option left out is silently
        // reset wherever options are copied or composed (KernelImageOptions, OnnxExplain, the engines' inner calls).
        _rankedOutputs = other._rankedOutputs;
        _outputRankOrder = other._outputRankOrder;
        Seed = other.Seed;
        _sampleIndexOffset = other._sampleIndexOffset;
        _maxBatchRows = other._maxBatchRows;
        _memoryBudgetBytes = other._memoryBudgetBytes;
        Progress = other.Progress;
        Logger = other.Logger;
    }

    /// <summary>Explain only each sample's top k outputs (shap's <c>ranked_outputs</c>); null explains all. At least 1.</summary>
    public int? RankedOutputs
    {
        get => _rankedOutputs;
        set => _rankedOutputs = OptionValue.Checked(value, value is not < 1, nameof(RankedOutputs),
            "RankedOutputs must be at least 1 (or null for all outputs).");
    }

    /// <summary>Order used to rank outputs (shap's <c>output_rank_order</c>).</summary>
    public OutputRankOrder OutputRankOrder
    {
        get => _outputRankOrder;
        set => _outputRankOrder = OptionValue.Defined(value, nameof(OutputRankOrder));
    }

    /// <summary>
    /// Seed of the random draws (shap's <c>rseed</c>); the same seed gives the same result, whatever the batch size.
    /// Null draws a fresh seed per call.
    /// </summary>
    public long? Seed { get; set; }

    /// <summary>
    /// Global index of the first explained sample (default 0). Each sample's random draws are keyed by the seed and
    /// its global index, so explaining rows 0..9 in one call, or rows 0..4 and then rows 5..9 with
    /// <c>SampleIndexOffset = 5</c>, gives the same attributions: split work over machines this way.
    /// </summary>
    public long SampleIndexOffset
    {
        get => _sampleIndexOffset;
        set => _sampleIndexOffset = OptionValue.Checked(value, value >= 0, nameof(SampleIndexOffset),
            "SampleIndexOffset must be at least 0.");
    }

    /// <summary>Cap on rows per model evaluation (at least 1); null sizes batches from the memory budget.</summary>
    public int? MaxBatchRows
    {
        get => _maxBatchRows;
        set => _maxBatchRows = OptionValue.Checked(value, value is not < 1, nameof(MaxBatchRows),
            "MaxBatchRows must be at least 1 (or null to size batches from memory).");
    }

    /// <summary>
    /// Bytes one batch may use (at least 1); null: a quarter of what the process may still allocate on the CPU (the
    /// smallest of the host's available memory, the address-space limit and the cgroup limit; at most 4 GiB), 4 GiB
    /// on CUDA (TorchSharp cannot query free device memory).
    /// </summary>
    public long? MemoryBudgetBytes
    {
        get => _memoryBudgetBytes;
        set => _memoryBudgetBytes = OptionValue.Checked(value, value is not < 1, nameof(MemoryBudgetBytes),
            "MemoryBudgetBytes must be positive (or null for the default budget).");
    }

    /// <summary>Receives progress after each batch; reaches Done == Total exactly once.</summary>
    public IProgress<ExplainProgress>? Progress { get; set; }

    /// <summary>
    /// Receives structured events (see <see cref="ShapGenEvents"/>): a batch halved after running out of memory, the
    /// budget lowered by a process limit, a slow batch, a fallback; null discards them.
    /// </summary>
    public ILogger? Logger { get; set; }
}
