using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// A model as the explainers see it: a function from <see cref="InputCount"/> batched tensors to a batched output
/// [N, K] (an output [N] counts as K = 1; [N, …] is flattened to [N, K]), plus the module tree when there is one
/// (needed for layer explanation and DeepLIFT). Children are invoked with <c>.call</c> so that hooks fire.
/// </summary>
public sealed class ExplainableModel
{
    private readonly Func<Tensor[], Tensor> _forward;

    /// <summary>Wraps a forward function over <paramref name="inputCount"/> inputs and, optionally, its module.</summary>
    /// <param name="forward">Maps batched inputs to a batched output.</param>
    /// <param name="inputCount">Number of inputs the function takes.</param>
    /// <param name="module">The module whose tree holds named layers, when there is one.</param>
    public ExplainableModel(Func<Tensor[], Tensor> forward, int inputCount, nn.Module? module = null)
    {
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputCount, 1);
        NativeBackend.EnsureLoaded();
        _forward = forward;
        InputCount = inputCount;
        Module = module;
    }

    /// <summary>Number of model inputs.</summary>
    public int InputCount { get; }

    /// <summary>The module tree, or null for a plain function.</summary>
    public nn.Module? Module { get; }

    /// <summary>The device of the module's first parameter or buffer, or null when it has none (a plain function).</summary>
    public Device? Device
    {
        get
        {
            if (Module is null) return null;
            foreach (var p in Module.parameters()) return p.device;
            foreach (var b in Module.buffers()) return b.device;
            return null;
        }
    }

    /// <summary>The dtype of the module's first floating-point parameter, or null.</summary>
    public ScalarType? ParameterType
    {
        get
        {
            if (Module is null) return null;
            foreach (var p in Module.parameters())
                if (p.is_floating_point()) return p.dtype;
            return null;
        }
    }

    /// <summary>Runs the model and returns its output as [N, K].</summary>
    /// <param name="inputs">One batched tensor per input.</param>
    public Tensor Forward(params Tensor[] inputs)
    {
        if (inputs.Length != InputCount)
            throw new ArgumentException($"The model takes {InputCount} input(s); {inputs.Length} were given.", nameof(inputs));
        var output = _forward(inputs);
        return output.dim() switch
        {
            1 => output.unsqueeze(1),
            2 => output,
            _ => output.flatten(1),
        };
    }

    /// <summary>Wraps a one-input module.</summary>
    public static ExplainableModel Create(nn.Module<Tensor, Tensor> module) => new(x => module.call(x[0]), 1, module);

    /// <summary>Wraps a two-input module.</summary>
    public static ExplainableModel Create(nn.Module<Tensor, Tensor, Tensor> module) => new(x => module.call(x[0], x[1]), 2, module);

    /// <summary>Wraps a three-input module.</summary>
    public static ExplainableModel Create(nn.Module<Tensor, Tensor, Tensor, Tensor> module) =>
        new(x => module.call(x[0], x[1], x[2]), 3, module);

    /// <summary>Wraps a four-input module.</summary>
    public static ExplainableModel Create(nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor> module) =>
        new(x => module.call(x[0], x[1], x[2], x[3]), 4, module);

    /// <summary>Wraps a five-input module.</summary>
    public static ExplainableModel Create(nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> module) =>
        new(x => module.call(x[0], x[1], x[2], x[3], x[4]), 5, module);

    /// <summary>Wraps a six-input module.</summary>
    public static ExplainableModel Create(nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> module) =>
        new(x => module.call(x[0], x[1], x[2], x[3], x[4], x[5]), 6, module);

    /// <summary>Finds a submodule by its <c>named_modules()</c> path, or throws an error listing the paths there are.</summary>
    /// <param name="path">e.g. <c>"features.7"</c>.</param>
    public nn.Module FindLayer(string path)
    {
        if (Module is null)
            throw new InvalidOperationException(LayerNotFound(path));
        return TryFindLayer(path) ?? throw new ArgumentException(LayerNotFound(path), nameof(path));
    }

    /// <summary>The submodule at <paramref name="path"/>, or null.</summary>
    internal nn.Module? TryFindLayer(string path)
    {
        if (Module is null) return null;
        foreach (var (name, module) in Module.named_modules())
            if (name == path) return module;
        return null;
    }

    /// <summary>Why <paramref name="path"/> names no submodule: no module tree, or the paths there are.</summary>
    internal string LayerNotFound(string path)
    {
        if (Module is null)
            return $"Layer '{path}' cannot be found: the model is a plain function with no module tree.";
        string known = string.Join(", ", Module.named_modules().Select(n => n.name).Where(n => n.Length > 0).Take(40));
        return $"The model has no submodule '{path}'. Known paths: {known}.";
    }
}
