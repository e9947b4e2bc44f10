using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// One DeepExplainer pass on this thread: first a gradient-free reference pass records the input of every
/// nonlinearity call in order; then the explained pass pairs the i-th call with the i-th recorded input. Holds the
/// owner (the explainer whose hooks should act) and the first error raised inside a custom backward.
/// </summary>
internal sealed class DeepLiftContext
{
    [ThreadStatic] private static DeepLiftContext? _current;
    private readonly object _gate = new();
    private readonly List<(Tensor Input, string Where)> _references = new();
    private int _cursor;
    private Exception? _error;

    public DeepLiftContext(object owner, long rows, DeepSoftmaxRule softmax = DeepSoftmaxRule.ShapleySplit)
    {
        Owner = owner;
        Rows = rows;
        Softmax = softmax;
    }

    /// <summary>The context active on this thread, or null outside a DeepExplainer pass.</summary>
    public static DeepLiftContext? Current => _current;

    public object Owner { get; }

    /// <summary>The softmax rule of the explained pass.</summary>
    public DeepSoftmaxRule Softmax { get; }

    /// <summary>Rows in each pass (explained rows = reference rows).</summary>
    public long Rows { get; }

    public bool IsReferencePass { get; private set; } = true;

    public void Record(Tensor input, string where) => _references.Add((input.detach(), where));

    /// <summary>The inputs recorded by the reference pass, in call order.</summary>
    public IReadOnlyList<(Tensor Input, string Where)> References => _references;

    /// <summary>Uses references computed elsewhere (a cache over the background) and starts the explained pass.</summary>
    public void Preload(IEnumerable<(Tensor Input, string Where)> references)
    {
        _references.AddRange(references);
        BeginExplainedPass();
    }

    /// <summary>Switches from the reference pass to the explained pass.</summary>
    public void BeginExplainedPass()
    {
        IsReferencePass = false;
        _cursor = 0;
    }

    public Tensor NextReference(Tensor x, string where)
    {
        if (_cursor >= _references.Count)
            throw new InvalidOperationException(
                $"{where} was called {(_cursor + 1)} nonlinearity call(s) into the explained pass, but the reference pass made only " +
                $"{_references.Count}: the model's forward takes a different path for the inputs than for the background " +
                "(data-dependent control flow), which DeepLIFT cannot pair.");
        var (input, recordedWhere) = _references[_cursor++];
        if (recordedWhere != where || !input.shape.AsSpan().SequenceEqual(x.shape))
            throw new InvalidOperationException(
                $"Nonlinearity call {_cursor} is {where} with shape {Shapes.Format(x.shape)} for the inputs but was " +
                $"{recordedWhere} with shape {Shapes.Format(input.shape)} for the background: the model's forward takes a " +
                "different path for the inputs than for the background (data-dependent control flow), which DeepLIFT cannot pair.");
        return input;
    }

    /// <summary>Throws when the explained pass used fewer nonlinearity calls than the reference pass.</summary>
    public void CheckAllReferencesUsed()
    {
        if (_cursor != _references.Count)
            throw new InvalidOperationException(
                $"The reference pass made {_references.Count} nonlinearity call(s) but the explained pass only {_cursor}: the " +
                "model's forward takes a different path for the inputs than for the background, which DeepLIFT cannot pair.");
    }

    public void RecordError(Exception e)
    {
        lock (_gate) _error ??= e;
    }

    /// <summary>Throws the first error recorded inside a backward, if any.</summary>
    public void ThrowIfFailed()
    {
        Exception? e;
        lock (_gate) e = _error;
        if (e is not null)
            throw new InvalidOperationException(e.Message, e);
    }

    /// <summary>Makes this context current on the calling thread until the returned scope is disposed.</summary>
    public Scope Enter()
    {
        var previous = _current;
        _current = this;
        return new Scope(previous);
    }

    /// <summary>Restores the previous context.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly DeepLiftContext? _previous;

        public Scope(DeepLiftContext? previous) => _previous = previous;

        public void Dispose() => _current = _previous;
    }
}
