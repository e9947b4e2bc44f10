using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>Chooses which model outputs to explain per sample (shap's <c>ranked_outputs</c>).</summary>
public static class OutputRanking
{
    /// <summary>
    /// Returns [N, k] int64 indexes of each row's top <paramref name="k"/> outputs in <paramref name="order"/>,
    /// best first, or all outputs [N, K] in model order when <paramref name="k"/> is null.
    /// </summary>
    /// <param name="outputs">Model outputs [N, K].</param>
    /// <param name="k">Number of outputs to keep, or null for all.</param>
    /// <param name="order">The ranking order.</param>
    public static Tensor Select(Tensor outputs, int? k, OutputRankOrder order)
    {
        long count = outputs.shape[1];
        if (k is null)
            return arange(count, dtype: int64, device: outputs.device).unsqueeze(0).expand(outputs.shape[0], count).contiguous();
        EngineChecks.RankedOutputs(k, count);
        using var scope = NewDisposeScope();
        var key = order switch
        {
            OutputRankOrder.Max => outputs,
            OutputRankOrder.Min => -outputs,
            OutputRankOrder.MaxAbs => outputs.abs(),
            _ => throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown rank order."),
        };
        // A stable descending sort keeps ties in model order.
        var sorted = key.sort(dim: 1, descending: true, stable: true).Indices;
        return sorted.narrow(1, 0, k.Value).contiguous().MoveToOuterDisposeScope();
    }
}
