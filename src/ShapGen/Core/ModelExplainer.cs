using System;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// The base of each model's generated explainers: one engine over plain tensors, explaining typed batches into
/// typed results. The generated code fills in the engine, the call to its <c>Explain</c> and the result type.
/// </summary>
/// <typeparam name="TEngine">The engine (e.g. <see cref="GradientExplainer"/>); disposed with the explainer when it is <see cref="IDisposable"/>.</typeparam>
/// <typeparam name="TOptions">The engine's options.</typeparam>
/// <typeparam name="TBatch">The model's generated <c>Batch</c>.</typeparam>
/// <typeparam name="TResult">The model's generated result type.</typeparam>
public abstract class ModelExplainer<TEngine, TOptions, TBatch, TResult> : IDisposable
    where TEngine : class
    where TOptions : class
    where TBatch : InputBatch
    where TResult : ExplanationResult
{
    private readonly Func<TEngine, Tensor[], TOptions?, CancellationToken, Explanation> _explain;
    private readonly Func<Explanation, TResult> _result;

    /// <summary>Takes ownership of an engine.</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="explain">Calls the engine's <c>Explain</c>.</param>
    /// <param name="result">Wraps the engine's explanation in the typed result.</param>
    protected ModelExplainer(TEngine engine, Func<TEngine, Tensor[], TOptions?, CancellationToken, Explanation> explain,
                             Func<Explanation, TResult> result)
    {
        Engine = engine ?? throw new ArgumentNullException(nameof(engine));
        _explain = explain ?? throw new ArgumentNullException(nameof(explain));
        _result = result ?? throw new ArgumentNullException(nameof(result));
    }

    /// <summary>The untyped engine.</summary>
    public TEngine Engine { get; }

    /// <summary>Explains a batch.</summary>
    /// <param name="inputs">The samples to explain.</param>
    /// <param name="options">Options, or null for the defaults.</param>
    /// <param name="cancellationToken">Stops the work between batches.</param>
    /// <returns>The typed result; it owns its tensors: dispose it.</returns>
    public TResult Explain(TBatch inputs, TOptions? options = null, CancellationToken cancellationToken = default) =>
        _result(_explain(Engine, Tensors(inputs, nameof(inputs)), options, cancellationToken));

    /// <summary>Frees the engine's tensors and hooks, if it holds any.</summary>
    public void Dispose() => (Engine as IDisposable)?.Dispose();

    /// <summary>The tensors of a batch argument, or an <see cref="ArgumentNullException"/> naming it.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="argument">The argument's name.</param>
    protected static Tensor[] Tensors(TBatch? batch, string argument) =>
        batch?.ToArray() ?? throw new ArgumentNullException(argument);
}
