using System;

namespace ShapGen;

/// <summary>
/// The paired forward pass now running on this thread: its owner (the explainer whose hooks should act), the
/// number of explained rows (the first half of the batch), and the first error raised inside a custom backward.
/// </summary>
internal sealed class DeepLiftContext
{
    [ThreadStatic] private static DeepLiftContext? _current;
    private readonly object _gate = new();
    private Exception? _error;

    public DeepLiftContext(object owner, long half)
    {
        Owner = owner;
        Half = half;
    }

    /// <summary>The context active on this thread, or null outside a DeepExplainer pass.</summary>
    public static DeepLiftContext? Current => _current;

    public object Owner { get; }

    public long Half { get; }

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
