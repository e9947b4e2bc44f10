using System;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Captures or replaces the input (forward pre-hook) or the output (forward hook) of one named layer during a forward
/// pass, on the calling thread only, and checks that the layer ran exactly once. Registered once; removed by Dispose.
/// </summary>
internal sealed class LayerHook : IDisposable
{
    private readonly nn.Module<Tensor, Tensor>.HookRemover _remover;
    private readonly ThreadLocal<State?> _state = new();
    private readonly bool _input;

    private sealed class State
    {
        public Func<Tensor, Tensor>? Replace;
        public Tensor? Captured;
        public int Calls;
    }

    /// <summary>Finds <paramref name="path"/> in <paramref name="model"/> and hooks its input or output.</summary>
    /// <exception cref="ArgumentException">No such layer, or it does not take one tensor; the message lists the known paths.</exception>
    public LayerHook(ExplainableModel model, string path, bool input, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(path, parameterName);
        Path = path;
        _input = input;
        nn.Module found;
        try { found = model.FindLayer(path); }
        catch (InvalidOperationException e) { throw new ArgumentException(e.Message, parameterName); }
        catch (ArgumentException e) { throw new ArgumentException(e.Message.Replace(" (Parameter 'path')", ""), parameterName); }
        var module = found as nn.Module<Tensor, Tensor>
            ?? throw new ArgumentException(
                $"Layer '{path}' is a {found.GetType().Name}; a layer method needs a submodule that takes one tensor (nn.Module<Tensor, Tensor>).",
                parameterName);
        _remover = input
            ? module.register_forward_pre_hook((_, x) => Swap(x))
            : module.register_forward_hook((_, _, y) => Swap(y));
    }

    /// <summary>The layer's path.</summary>
    public string Path { get; }

    /// <summary>
    /// Runs <paramref name="forward"/>; the layer's input or output is captured (detached) when
    /// <paramref name="replacement"/> is null, or replaced by it (same shape).
    /// </summary>
    public Tensor Run(Func<Tensor> forward, Tensor? replacement, out Tensor? captured) =>
        Run(forward, replacement is null ? null : value => Same(value, replacement), out captured);

    /// <summary>
    /// Runs <paramref name="forward"/>; the layer's input or output v is replaced by <paramref name="replace"/>(v)
    /// and <paramref name="captured"/> is what replaced it; with <paramref name="replace"/> null, v is captured detached.
    /// </summary>
    public Tensor Run(Func<Tensor> forward, Func<Tensor, Tensor>? replace, out Tensor? captured)
    {
        var state = new State { Replace = replace };
        _state.Value = state;
        Tensor y;
        try { y = forward(); }
        finally { _state.Value = null; }
        string what = _input ? "input" : "output";
        if (state.Calls != 1)
            throw new InvalidOperationException(state.Calls == 0
                ? $"Layer '{Path}' was not invoked during the forward pass. Hooks fire only when a child is invoked with .call(x), not .forward(x); call it with .call."
                : $"Layer '{Path}' was invoked {state.Calls} times in one forward pass; explaining its {what} needs exactly one call.");
        captured = state.Captured;
        return y;
    }

    private Tensor Swap(Tensor value)
    {
        var state = _state.Value;
        if (state is null) return null!; // another thread's forward, or not explaining: leave it alone
        if (++state.Calls > 1) return null!;
        if (state.Replace is null)
        {
            state.Captured = value.detach();
            return null!;
        }
        state.Captured = state.Replace(value);
        return state.Captured;
    }

    private Tensor Same(Tensor value, Tensor replacement)
    {
        if (!value.shape.SequenceEqual(replacement.shape))
            throw new InvalidOperationException(
                $"Layer '{Path}' {(_input ? "received" : "returned")} shape {Shapes.Format(value.shape)} but the explainer expected " +
                $"{Shapes.Format(replacement.shape)}: its per-sample shape must not depend on the batch.");
        return replacement.alias();
    }

    /// <summary>Removes the hook.</summary>
    public void Dispose()
    {
        _remover.remove();
        _state.Dispose();
    }
}
