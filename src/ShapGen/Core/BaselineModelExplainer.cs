using System;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// The base of generated explainers whose method compares each sample with a baseline (Captum's <c>baselines</c>:
/// integrated gradients, DeepLIFT, layer methods built on them): <see cref="ModelExplainer{TEngine,TOptions,TBatch,TResult}.Explain"/>
/// uses zeros, and <see cref="Explain(TBatch, TBatch, TOptions, CancellationToken)"/> takes baselines as a typed batch.
/// </summary>
/// <typeparam name="TEngine">The engine (e.g. <see cref="IntegratedGradients"/>).</typeparam>
/// <typeparam name="TOptions">The engine's options.</typeparam>
/// <typeparam name="TBatch">The model's generated <c>Batch</c>.</typeparam>
/// <typeparam name="TResult">The model's generated result type.</typeparam>
public abstract class BaselineModelExplainer<TEngine, TOptions, TBatch, TResult> : ModelExplainer<TEngine, TOptions, TBatch, TResult>
    where TEngine : class
    where TOptions : class
    where TBatch : InputBatch
    where TResult : ExplanationResult
{
    private readonly Func<TEngine, Tensor[], Tensor[]?, TOptions?, CancellationToken, Explanation> _explain;
    private readonly Func<Explanation, TResult> _result;

    /// <summary>Takes ownership of an engine.</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="explain">Calls the engine's <c>Explain</c> with inputs and baselines (null: zeros).</param>
    /// <param name="result">Wraps the engine's explanation in the typed result.</param>
    protected BaselineModelExplainer(TEngine engine, Func<TEngine, Tensor[], Tensor[]?, TOptions?, CancellationToken, Explanation> explain,
                                     Func<Explanation, TResult> result)
        : base(engine, WithZeroBaselines(explain), result)
    {
        _explain = explain;
        _result = result;
    }

    /// <summary>Explains a batch against baselines.</summary>
    /// <param name="inputs">The samples to explain.</param>
    /// <param name="baselines">One row shared by every sample, or one row per sample; null uses zeros.</param>
    /// <param name="options">Options, or null for the defaults.</param>
    /// <param name="cancellationToken">Stops the work between batches.</param>
    /// <returns>The typed result; it owns its tensors: dispose it.</returns>
    public TResult Explain(TBatch inputs, TBatch? baselines, TOptions? options = null, CancellationToken cancellationToken = default) =>
        _result(_explain(Engine, Tensors(inputs, nameof(inputs)), baselines?.ToArray(), options, cancellationToken));

    private static Func<TEngine, Tensor[], TOptions?, CancellationToken, Explanation> WithZeroBaselines(
        Func<TEngine, Tensor[], Tensor[]?, TOptions?, CancellationToken, Explanation> explain)
    {
        ArgumentNullException.ThrowIfNull(explain);
        return (engine, inputs, options, token) => explain(engine, inputs, null, options, token);
    }
}
