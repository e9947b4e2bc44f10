using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>Model evaluations without gradients that every engine needs, batched through <see cref="Batching.Run"/>.</summary>
internal static class ModelEvaluation
{
    /// <summary>
    /// E[f(background)]: the model's mean output over the rows of <paramref name="background"/>, [K] float64 on the
    /// background's device, in batches sized from one measured probe, with cancellation, progress and out-of-memory
    /// halving. Every batch is checked (<see cref="EngineChecks.Output"/>, <see cref="EngineChecks.Finite"/>).
    /// </summary>
    /// <param name="engine">The engine's name for log events.</param>
    /// <param name="background">One batched tensor per model input.</param>
    /// <param name="forward">Runs the model on a batch (and the index of its first row, −1 for the sizing probe) and
    /// returns [rows, K]; may record more per batch (layer inputs).</param>
    /// <param name="options">Batching, memory budget, progress (in background rows) and logger.</param>
    /// <param name="labels">Output names for messages.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <param name="outputType">The dtype of the model's outputs.</param>
    public static Tensor MeanOutput(string engine, Tensor[] background, Func<Tensor[], long, Tensor> forward, ExplainOptions options,
                                    IReadOnlyList<string>? labels, CancellationToken cancellationToken, out ScalarType outputType)
    {
        long rows = background[0].shape[0];
        var device = background[0].device;
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        long probe = Math.Min(rows, 8);
        long bytes = Batching.MeasurePeakBytes(device, () => forward(background.Select(t => t.narrow(0, 0, probe)).ToArray(), -1));
        long batch = Batching.RowsPerBatch(2.0 * bytes / probe, device, options, engine);
        Tensor? sum = null;
        long? outputs = null;
        var type = ScalarType.Float64;
        Batching.Run(rows, batch, (start, count) =>
        {
            var y = forward(background.Select(t => t.narrow(0, start, count)).ToArray(), start);
            EngineChecks.Output(y, count, outputs);
            outputs = y.shape[1];
            type = y.dtype;
            EngineChecks.Finite(y, nameof(background), start, labels);
            var part = y.detach().to_type(ScalarType.Float64).sum(new long[] { 0 });
            var next = (sum is null ? part : sum + part).MoveToOuterDisposeScope();
            sum?.Dispose();
            sum = next;
        }, options, cancellationToken, engine);
        outputType = type;
        return (sum! / rows).MoveToOuterDisposeScope();
    }
}
