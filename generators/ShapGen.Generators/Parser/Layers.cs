using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ShapGen.Generators.Parser;

/// <summary>A module whose effect on shapes is known statically. Shapes are full shapes; index 0 is the batch (-1).</summary>
internal abstract class Layer
{
    public string Kind { get; protected set; } = "";

    /// <summary>Returns the output shape, null when unknown, or sets <paramref name="error"/> for a certain mismatch.</summary>
    public abstract long[]? Apply(long[] input, out ShapeError? error);

    protected static long[] With(long[] shape, int index, long value)
    {
        var copy = (long[])shape.Clone();
        copy[index] = value;
        return copy;
    }
}

/// <summary>A certain shape mismatch: what expects what, and what it receives.</summary>
internal sealed record ShapeError(string Expected, string Received);

internal static class ShapeText
{
    public static string Full(long[] shape) => "[" + string.Join(", ", shape.Select((d, i) => i == 0 && d < 0 ? "N" : d.ToString(CultureInfo.InvariantCulture))) + "]";

    public static string Sample(IEnumerable<long> shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    public static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Multiplies without overflow; null when the product exceeds 2^50.</summary>
    public static long? Product(IEnumerable<long> dims)
    {
        long p = 1;
        foreach (var d in dims)
        {
            if (d < 0) return null;
            if (d != 0 && p > (1L << 50) / d) return null;
            p *= d;
        }
        return p;
    }
}

internal sealed class SameShapeLayer : Layer
{
    public SameShapeLayer(string kind) => Kind = kind;

    public override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        return input;
    }
}

internal sealed class LinearLayer : Layer
{
    private readonly long _in, _out;

    public LinearLayer(long inFeatures, long outFeatures)
    {
        Kind = "Linear";
        _in = inFeatures;
        _out = outFeatures;
    }

    public override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        if (input.Length < 2) return null;
        long last = input[input.Length - 1];
        if (last != _in)
        {
            error = new ShapeError($"{ShapeText.N(_in)} input features", $"{ShapeText.N(last)} (input shape {ShapeText.Full(input)})");
            return null;
        }
        return With(input, input.Length - 1, _out);
    }
}

internal sealed class Conv2dLayer : Layer
{
    private readonly long _in, _out;
    private readonly long[] _k, _s, _p, _d;
    private readonly bool _same;

    public Conv2dLayer(long inChannels, long outChannels, long[] kernel, long[] stride, long[] padding, long[] dilation, bool same)
    {
        Kind = "Conv" + kernel.Length.ToString(CultureInfo.InvariantCulture) + "d";
        (_in, _out, _k, _s, _p, _d, _same) = (inChannels, outChannels, kernel, stride, padding, dilation, same);
    }

    public override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        int spatial = _k.Length;
        if (input.Length != 2 + spatial) return null;
        if (input[1] != _in)
        {
            error = new ShapeError($"{ShapeText.N(_in)} input channels", $"{ShapeText.N(input[1])} (input shape {ShapeText.Full(input)})");
            return null;
        }
        var output = With(input, 1, _out);
        if (_same) return output;
        for (int i = 0; i < spatial; i++)
        {
            long size = input[2 + i];
            long span = _d[i] * (_k[i] - 1) + 1;
            if (size + 2 * _p[i] < span)
            {
                error = new ShapeError($"a spatial size of at least {ShapeText.N(span - 2 * _p[i])} in dimension {ShapeText.N(2 + i)}",
                    $"{ShapeText.N(size)} (input shape {ShapeText.Full(input)})");
                return null;
            }
            output[2 + i] = (size + 2 * _p[i] - span) / _s[i] + 1;
        }
        return output;
    }
}

internal sealed class Pool2dLayer : Layer
{
    private readonly long[] _k, _s, _p, _d;
    private readonly bool _ceil;

    public Pool2dLayer(string kind, long[] kernel, long[] stride, long[] padding, long[] dilation, bool ceil)
    {
        Kind = kind;
        (_k, _s, _p, _d, _ceil) = (kernel, stride, padding, dilation, ceil);
    }

    public override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        int spatial = _k.Length;
        if (input.Length < spatial + 1 || input.Length > spatial + 2) return null;
        var output = (long[])input.Clone();
        for (int i = 0; i < spatial; i++)
        {
            int axis = input.Length - spatial + i;
            long size = input[axis];
            long span = _d[i] * (_k[i] - 1) + 1;
            if (size + 2 * _p[i] < span)
            {
                error = new ShapeError($"a spatial size of at least {ShapeText.N(span - 2 * _p[i])} in dimension {ShapeText.N(axis)}",
                    $"{ShapeText.N(size)} (input shape {ShapeText.Full(input)})");
                return null;
            }
            long numerator = size + 2 * _p[i] - span;
            long o = (_ceil ? (numerator + _s[i] - 1) / _s[i] : numerator / _s[i]) + 1;
            if (_ceil && (o - 1) * _s[i] >= size + _p[i]) o--;
            output[axis] = o;
        }
        return output;
    }
}

/// <summary>AdaptiveAvgPool2d/AdaptiveMaxPool2d: the last two dimensions become the output size.</summary>
internal sealed class AdaptivePoolLayer : Layer
{
    private readonly long[] _size;

    public AdaptivePoolLayer(string kind, long[] size)
    {
        Kind = kind;
        _size = size;
    }

    public override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        if (input.Length < _size.Length + 1 || input.Length > _size.Length + 2) return null;
        var output = (long[])input.Clone();
        for (int i = 0; i < _size.Length; i++) output[input.Length - _size.Length + i] = _size[i];
        return output;
    }
}

/// <summary>LayerNorm over the last dimension: it must equal the normalized size.</summary>
internal sealed class LayerNormLayer : Layer
{
    private readonly long _size;

    public LayerNormLayer(long size)
    {
        Kind = "LayerNorm";
        _size = size;
    }

    public override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        if (input.Length < 2) return null;
        if (input[input.Length - 1] != _size)
        {
            error = new ShapeError($"a last dimension of {ShapeText.N(_size)}", $"{ShapeText.N(input[input.Length - 1])} (input shape {ShapeText.Full(input)})");
            return null;
        }
        return input;
    }
}

internal sealed class BatchNormLayer : Layer
{
    private readonly long _features;
    private readonly int[] _ranks;

    public BatchNormLayer(string kind, long features, params int[] ranks)
    {
        Kind = kind;
        _features = features;
        _ranks = ranks;
    }

    public override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        if (Array.IndexOf(_ranks, input.Length) < 0) return null;
        if (input[1] != _features)
        {
            error = new ShapeError($"{ShapeText.N(_features)} features (channels)", $"{ShapeText.N(input[1])} (input shape {ShapeText.Full(input)})");
            return null;
        }
        return input;
    }
}

internal sealed class FlattenLayer : Layer
{
    private readonly long _start, _end;

    public FlattenLayer(long start, long end)
    {
        Kind = "Flatten";
        (_start, _end) = (start, end);
    }

    public override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        return Flatten(input, _start, _end);
    }

    public static long[]? Flatten(long[] input, long start, long end)
    {
        int rank = input.Length;
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        if (start < 1 || end >= rank || start > end) return start == end && start >= 1 && start < rank ? input : null;
        var merged = ShapeText.Product(input.Skip((int)start).Take((int)(end - start + 1)));
        if (merged is null) return null;
        return input.Take((int)start).Concat(new[] { merged.Value }).Concat(input.Skip((int)end + 1)).ToArray();
    }
}

/// <summary>nn.Sequential: its children in order, each with its name (index or given name); null when unknown.</summary>
internal sealed class SequentialLayer : Layer
{
    public SequentialLayer(IReadOnlyList<(string Name, Layer? Layer)> children)
    {
        Kind = "Sequential";
        Children = children;
    }

    public IReadOnlyList<(string Name, Layer? Layer)> Children { get; }

    public override long[]? Apply(long[] input, out ShapeError? error) => throw new InvalidOperationException("Sequential is applied by the inference walk.");
}
