using System;

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

/// <summary>Options shared by the gradient-based explainers.</summary>
public class ExplainOptions
{
    /// <summary>Explain only each sample's top k outputs (shap's <c>ranked_outputs</c>); null explains all.</summary>
    public int? RankedOutputs { get; set; }

    /// <summary>Order used to rank outputs (shap's <c>output_rank_order</c>).</summary>
    public OutputRankOrder OutputRankOrder { get; set; } = OutputRankOrder.Max;

    /// <summary>Seed of the random draws (shap's <c>rseed</c>); the same seed gives the same result.</summary>
    public long? Seed { get; set; }

    /// <summary>Cap on rows per model evaluation; null sizes batches from available memory.</summary>
    public int? MaxBatchRows { get; set; }

    /// <summary>Receives progress after each batch; reaches Done == Total exactly once.</summary>
    public IProgress<ExplainProgress>? Progress { get; set; }

    /// <summary>
    /// Bytes one batch may use; null: a quarter of the host's available memory (at most 4 GiB) on the CPU, 4 GiB on
    /// CUDA (TorchSharp cannot query free device memory).
    /// </summary>
    public long? MemoryBudgetBytes { get; set; }

    /// <summary>
    /// Receives diagnostic messages, e.g. that a batch ran out of memory and was halved; null discards them.
    /// </summary>
    public Action<string>? Log { get; set; }
}
