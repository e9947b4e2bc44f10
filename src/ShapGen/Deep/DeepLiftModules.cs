using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Finds the nonlinear modules of a model, hooks them, and rejects built-in modules without a DeepLIFT rule before
/// any work. User-defined modules are containers: their own forward code is covered by the additivity check.
/// </summary>
internal sealed class DeepLiftModules : IDisposable
{
    // TorchSharp built-ins that are linear in their input in eval mode (or pure containers / reshapes).
    private static readonly HashSet<string> PassThrough = new(StringComparer.Ordinal)
    {
        "Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
        "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
        "AlphaDropout", "FeatureAlphaDropout", "Flatten", "Unflatten", "Identity", "Sequential", "ModuleList",
        "ModuleDict", "ParameterList", "ParameterDict", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
        "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
        "ReplicationPad3d", "PixelShuffle", "PixelUnshuffle", "ChannelShuffle",
    };

    /// <summary>Module kinds with a DeepLIFT rule (for messages and docs).</summary>
    internal static readonly string[] Supported =
        { "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax", "MaxPool1d", "MaxPool2d" };

    private readonly List<Action> _hooks = new();
    private readonly List<(string Path, nn.Module Module)> _all;
    private readonly List<Action<bool>> _inplaceSwitches = new();

    public DeepLiftModules(nn.Module? root, object owner)
    {
        _all = root is null ? new() : root.named_modules().Select(m => (m.name, m.module)).ToList();
        var plan = new List<(string Path, nn.Module<Tensor, Tensor> Module, Func<DeepLiftRule> Rule)>();
        foreach (var (path, module) in _all)
        {
            string shown = path.Length == 0 ? "(root)" : path;
            if (module.GetType().Assembly != typeof(torch).Assembly)
                continue;
            string kind = KindOf(module);
            var rule = RuleFor(module, kind);
            if (rule is not null)
            {
                plan.Add((shown, (nn.Module<Tensor, Tensor>)module, rule));
                continue;
            }
            if (!PassThrough.Contains(kind))
                throw new NotSupportedException(
                    $"DeepExplainer cannot explain the model: module '{shown}' ({kind}) has no DeepLIFT rule. " +
                    $"Supported nonlinearities: {string.Join(", ", Supported)}; linear layers (Linear, Conv*, AvgPool*, " +
                    "BatchNorm* in eval, Dropout*, Flatten, padding) pass through. Replace the module or use GradientExplainer or KernelExplainer.");
        }
        Count = plan.Count;
        foreach (var (path, module, rule) in plan)
        {
            string where = $"module '{path}' ({KindOf(module)})";
            var remover = module.register_forward_hook((_, input, output) =>
            {
                var context = DeepLiftContext.Current;
                if (context is null || !ReferenceEquals(context.Owner, owner))
                    return output;
                return DeepLiftFunction.Apply(input, rule(), context, where);
            });
            _hooks.Add(remover.remove);
        }
    }

    /// <summary>Number of hooked nonlinear modules.</summary>
    public int Count { get; }

    private static string KindOf(nn.Module module)
    {
        string name = module.GetType().Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        return tick < 0 ? name : name[..tick];
    }

    private Func<DeepLiftRule>? RuleFor(nn.Module module, string kind)
    {
        switch (module)
        {
            case ReLU m:
                AddInplace(v => m.inplace = v, m.inplace);
                return ElementwiseRule.Relu;
            case LeakyReLU m:
                AddInplace(v => m.inplace = v, m.inplace);
                return () => ElementwiseRule.LeakyRelu(m.negative_slope);
            case ELU m:
                AddInplace(v => m.inplace = v, m.inplace);
                return () => ElementwiseRule.Elu(m.alpha);
            case Sigmoid:
                return ElementwiseRule.Sigmoid;
            case Tanh:
                return ElementwiseRule.Tanh;
            case Softplus m:
                return () => ElementwiseRule.Softplus(m.beta, m.threshold);
            case Softmax m:
                return () => new SoftmaxRule(m.dim);
            case LogSoftmax m:
                return () => new LogSoftmaxRule(m.dim);
            case MaxPool2d m:
                return () => new MaxPoolRule(m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode);
            case MaxPool1d m:
                return () => new MaxPoolRule(new[] { m.kernel_size }, m.stride is null ? null : new[] { m.stride.Value },
                                             new[] { m.padding ?? 0 }, new[] { m.dilation ?? 1 }, m.ceil_mode);
            default:
                _ = kind;
                return null;
        }
    }

    private void AddInplace(Action<bool> set, bool original)
    {
        // An in-place activation overwrites the input the rule needs: run it out of place during the pass.
        if (original)
            _inplaceSwitches.Add(on => set(on && original));
    }

    /// <summary>Puts the model in eval mode and in-place activations out of place; the result undoes both.</summary>
    public IDisposable Prepare()
    {
        var training = _all.Select(m => m.Module.training).ToArray();
        bool anyTraining = training.Any(t => t);
        if (anyTraining)
            foreach (var (_, m) in _all) m.train(false);
        foreach (var s in _inplaceSwitches) s(false);
        return new Restore(() =>
        {
            foreach (var s in _inplaceSwitches) s(true);
            if (anyTraining)
                for (int i = 0; i < _all.Count; i++)
                    if (_all[i].Module.training != training[i]) _all[i].Module.train(training[i]);
        });
    }

    public void Dispose()
    {
        foreach (var remove in _hooks) remove();
        _hooks.Clear();
    }

    private sealed class Restore : IDisposable
    {
        private Action? _action;

        public Restore(Action action) => _action = action;

        public void Dispose()
        {
            var a = _action;
            _action = null;
            a?.Invoke();
        }
    }
}
