using System;
using System.Collections.Generic;
using System.Linq;

namespace ShapGen.Generators.Parser;

/// <summary>The arguments of one call, by TorchSharp parameter name, as abstract values.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, Value> _byName;

    public Arguments(Dictionary<string, Value> byName, IReadOnlyList<Value> inOrder)
    {
        _byName = byName;
        InOrder = inOrder;
    }

    /// <summary>The argument values in parameter order (params arrays as one list value).</summary>
    public IReadOnlyList<Value> InOrder { get; }

    public Value this[string name] => _byName.TryGetValue(name, out var v) ? v : Value.Unknown;

    public bool Has(string name) => _byName.ContainsKey(name);

    public long? Long(string name) => Constant(this[name]);

    public static long? Constant(Value value) => value is IntValue { Constant: { } c } ? c : null;

    /// <summary>False when absent; null when present but not a constant.</summary>
    public bool? Bool(string name) => !_byName.TryGetValue(name, out var v) ? false : v is ConstantValue { Constant: bool b } ? b : null;

    public bool IsNullOrAbsent(string name) => !_byName.TryGetValue(name, out var v) || v is ConstantValue { Constant: null };

    /// <summary>Per-dimension sizes from a scalar, a tuple or an array of <paramref name="count"/> elements; <paramref name="fallback"/> when absent or null.</summary>
    public long[]? Dims(string name, long? fallback, int count)
    {
        if (IsNullOrAbsent(name)) return fallback is { } f ? Enumerable.Repeat(f, count).ToArray() : null;
        var value = this[name];
        if (Constant(value) is { } single) return Enumerable.Repeat(single, count).ToArray();
        var items = value switch { TupleValue t => t.Items, ListValue l => l.Items, _ => null };
        if (items is null) return null;
        var dims = items.Select(Constant).ToArray();
        if (dims.Any(d => d is null)) return null;
        if (dims.Length == 1) return Enumerable.Repeat(dims[0]!.Value, count).ToArray();
        return dims.Length == count ? dims.Select(d => d!.Value).ToArray() : null;
    }
}

/// <summary>Turns a call of a TorchSharp module factory (<c>nn.Conv2d(1, 32, 3)</c>) into a module value.</summary>
internal static class ModuleFactory
{
    private static readonly HashSet<string> SameShape = new(StringComparer.Ordinal)
    {
        "ReLU", "ReLU6", "Sigmoid", "Tanh", "ELU", "LeakyReLU", "GELU", "SiLU", "Softplus", "Softmax", "LogSoftmax", "Dropout",
        "Dropout1d", "Dropout2d", "Dropout3d", "Identity", "Hardtanh", "Mish", "SELU", "CELU", "Hardswish", "Hardsigmoid", "PReLU",
        "Softsign", "Tanhshrink", "AlphaDropout", "FeatureAlphaDropout", "LogSigmoid", "Softmin", "Softmax2d", "GLU", "Threshold",
        "RReLU", "Hardshrink", "Softshrink", "SiLU",
    };

    /// <summary>The module value, or a module without a shape rule (its output is unknown) when the arguments are not constant.</summary>
    public static ModuleValue Create(string name, Arguments args, IReadOnlyList<(string, Value)>? sequentialChildren)
    {
        if (name == "Sequential" && sequentialChildren is not null) return new ModuleValue(name, children: sequentialChildren);
        return new ModuleValue(name, SameShape.Contains(name) ? new SameShapeLayer(name) : Rule(name, args));
    }

    private static Layer? Rule(string name, Arguments args)
    {
        switch (name)
        {
            case "Linear":
                return args.Long("inputSize") is { } i && args.Long("outputSize") is { } o && i > 0 && o > 0 ? new LinearLayer(i, o) : null;
            case "Conv1d":
            case "Conv2d":
            case "ConvTranspose1d":
            case "ConvTranspose2d":
                return Conv(name, args);
            case "MaxPool1d":
            case "AvgPool1d":
            case "MaxPool2d":
            case "AvgPool2d":
            {
                int n = name.EndsWith("1d", StringComparison.Ordinal) ? 1 : 2;
                var k = args.Dims("kernel_size", null, n) ?? args.Dims("kernelSize", null, n);
                if (k is null) return null;
                var s = args.IsNullOrAbsent("stride") ? k : args.Dims("stride", null, n);
                var p = args.Dims("padding", 0, n);
                var d = name.StartsWith("MaxPool", StringComparison.Ordinal) ? args.Dims("dilation", 1, n) : Enumerable.Repeat(1L, n).ToArray();
                if (s is null || p is null || d is null || !Positive(k) || !Positive(s) || !Positive(d) || p.Any(x => x < 0)) return null;
                if (args.Bool("ceil_mode") is not { } ceil) return null;
                return new PoolLayer(name, k, s, p, d, ceil);
            }
            case "AdaptiveAvgPool1d":
            case "AdaptiveMaxPool1d":
            case "AdaptiveAvgPool2d":
            case "AdaptiveMaxPool2d":
            {
                int n = name.EndsWith("1d", StringComparison.Ordinal) ? 1 : 2;
                var size = args.Dims("output_size", null, n) ?? args.Dims("outputSize", null, n);
                return size is not null && Positive(size) ? new AdaptivePoolLayer(name, size) : null;
            }
            case "LayerNorm":
            {
                var value = args["normalized_shape"];
                long[]? shape = Arguments.Constant(value) is { } single ? new[] { single }
                    : value is ListValue list && list.Items.All(x => Arguments.Constant(x) is not null) ? list.Items.Select(x => Arguments.Constant(x)!.Value).ToArray() : null;
                return shape is not null && shape.Length > 0 && Positive(shape) ? new LayerNormLayer(shape) : null;
            }
            case "BatchNorm1d":
                return args.Long("num_features") is { } f1 && f1 > 0 ? new ChannelNormLayer(name, f1, "features (channels)", 2, 3) : null;
            case "BatchNorm2d":
                return args.Long("num_features") is { } f2 && f2 > 0 ? new ChannelNormLayer(name, f2, "features (channels)", 4) : null;
            case "InstanceNorm1d":
            case "InstanceNorm2d":
                // Without affine parameters or running statistics PyTorch only warns about a channel mismatch.
                return args.Long("num_features") is { } f3 && f3 > 0 && (args.Bool("affine") == true || args.Bool("track_running_stats") == true)
                    ? new ChannelNormLayer(name, f3, "features (channels)") : null;
            case "GroupNorm":
                return args.Long("num_channels") is { } c && c > 0 ? new ChannelNormLayer(name, c, "channels") : null;
            case "Flatten":
                return args.Long("start_dim") is { } start && args.Long("end_dim") is { } end ? new FlattenLayer(start, end) : null;
            case "Embedding":
                return args.Long("embedding_dims") is { } e && e > 0 ? new EmbeddingLayer(e) : null;
            case "LSTM":
            case "GRU":
            case "RNN":
                return args.Long("inputSize") is { } inSize && args.Long("hiddenSize") is { } hidden && args.Long("numLayers") is { } layers &&
                       args.Bool("batchFirst") is { } batchFirst && args.Bool("bidirectional") is { } bidirectional && inSize > 0 && hidden > 0 && layers > 0
                    ? new RecurrentLayer(name, inSize, hidden, layers, batchFirst, bidirectional) : null;
            case "MultiheadAttention":
            {
                if (args.Long("embedded_dim") is not { } embed || embed <= 0) return null;
                long? kdim = args.IsNullOrAbsent("kdim") ? embed : args.Long("kdim");
                long? vdim = args.IsNullOrAbsent("vdim") ? embed : args.Long("vdim");
                return kdim is { } kd && vdim is { } vd ? new AttentionLayer(embed, kd, vd) : null;
            }
            case "Upsample":
            {
                long[]? size = args["size"] is ListValue sizes && sizes.Items.All(x => Arguments.Constant(x) is > 0) ? sizes.Items.Select(x => Arguments.Constant(x)!.Value).ToArray() : null;
                double[]? scale = args["scale_factor"] is ListValue scales && scales.Items.All(x => x is ConstantValue { Constant: double } or IntValue { Constant: not null })
                    ? scales.Items.Select(x => x is ConstantValue { Constant: double dv } ? dv : Arguments.Constant(x)!.Value).ToArray() : null;
                return size is not null || scale is not null ? new UpsampleLayer(size, scale) : null;
            }
            case "PixelShuffle":
                return args.Long("upscale_factor") is { } r && r > 0 ? new PixelShuffleLayer(r) : null;
            default:
                return null;
        }
    }

    private static Layer? Conv(string name, Arguments args)
    {
        int d = name.EndsWith("1d", StringComparison.Ordinal) ? 1 : 2;
        bool transposed = name.StartsWith("ConvTranspose", StringComparison.Ordinal);
        if (args.Long("in_channels") is not { } ic || args.Long("out_channels") is not { } oc || ic <= 0 || oc <= 0) return null;
        var k = args.Dims("kernel_size", null, d) ?? args.Dims("kernelSize", null, d);
        var s = args.Dims("stride", 1, d);
        var dl = args.Dims("dilation", 1, d);
        if (k is null || s is null || dl is null) return null;
        bool same = false;
        long[]? p;
        if (args["padding"] is EnumValue { Type: "Padding" } mode)
        {
            if (mode.Member == "Same") { same = true; p = new long[d]; if (s.Any(x => x != 1)) return null; }
            else if (mode.Member == "Valid") p = new long[d];
            else return null;
        }
        else p = args.Dims("padding", 0, d);
        var outputPadding = transposed ? args.Dims("output_padding", 0, d) : null;
        if (p is null || !Positive(k) || !Positive(s) || !Positive(dl) || p.Any(x => x < 0) || (transposed && outputPadding is null)) return null;
        return new ConvLayer(name, ic, oc, k, s, p, dl, same, outputPadding);
    }

    private static bool Positive(long[] values) => values.All(v => v > 0);

    /// <summary>The name of the <paramref name="i"/>-th unnamed child of a Sequential.</summary>
    public static string Index(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>True for TorchSharp modules without children of their own (so the module tree below them is known).</summary>
    public static bool IsLeaf(string kind) => SameShape.Contains(kind) || LeafKinds.Contains(kind);

    private static readonly HashSet<string> LeafKinds = new(StringComparer.Ordinal)
    {
        "Linear", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "AvgPool1d", "MaxPool2d", "AvgPool2d",
        "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "LayerNorm", "BatchNorm1d", "BatchNorm2d",
        "InstanceNorm1d", "InstanceNorm2d", "GroupNorm", "Flatten", "Embedding", "LSTM", "GRU", "RNN", "Upsample",
        "PixelShuffle",
    };
}
