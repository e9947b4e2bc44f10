using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ShapGen.Generators.Parser;

/// <summary>
/// A TorchSharp module whose effect on shapes is known. Shapes are full shapes of <see cref="Dim"/> values (index 0 is
/// usually the batch). A rule reports an error only when the mismatch is certain (both sizes known).
/// </summary>
internal abstract class Layer
{
    protected Layer(string kind) => Kind = kind;

    public string Kind { get; }

    /// <summary>The output for the call's arguments, <see cref="Value.Unknown"/> when not known, or an error for a certain mismatch.</summary>
    public virtual Value Apply(IReadOnlyList<Value> arguments, out ShapeError? error)
    {
        error = null;
        if (arguments.Count == 0 || arguments[0] is not TensorValue input) return Value.Unknown;
        var output = Apply(input.Dims, out error);
        return error is null && output is not null ? new TensorValue(output) : Value.Unknown;
    }

    /// <summary>The rule for a module taking one tensor: the output shape, or null when unknown.</summary>
    protected virtual long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        return null;
    }

    protected static long[] With(long[] shape, int index, long value)
    {
        var copy = (long[])shape.Clone();
        copy[index] = value;
        return copy;
    }

    protected static ShapeError Mismatch(string expected, long received, long[] input) =>
        new(expected, $"{ShapeText.N(received)} (input shape {ShapeText.Full(input)})");

    protected static ShapeError Rank(string expected, long[] input) =>
        new(expected, $"a {ShapeText.N(input.Length)}-D input (shape {ShapeText.Full(input)})");
}

/// <summary>A certain shape mismatch: what expects what, and what it receives.</summary>
internal sealed record ShapeError(string Expected, string Received);

internal sealed class SameShapeLayer : Layer
{
    public SameShapeLayer(string kind) : base(kind) { }

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        return input;
    }
}

internal sealed class LinearLayer : Layer
{
    private readonly long _in, _out;

    public LinearLayer(long inFeatures, long outFeatures) : base("Linear") => (_in, _out) = (inFeatures, outFeatures);

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        if (input.Length < 1) return null;
        long last = input[input.Length - 1];
        if (Dim.Differs(last, _in))
        {
            error = Mismatch($"{ShapeText.N(_in)} input features", last, input);
            return null;
        }
        return With(input, input.Length - 1, _out);
    }
}

/// <summary>Convolutions (1-D, 2-D) and transposed convolutions; the channel dimension is 1 (batched) or 0 (unbatched).</summary>
internal sealed class ConvLayer : Layer
{
    private readonly long _in, _out;
    private readonly long[] _k, _s, _p, _d, _outputPadding;
    private readonly bool _same, _transposed;

    public ConvLayer(string kind, long inChannels, long outChannels, long[] kernel, long[] stride, long[] padding, long[] dilation, bool same,
                     long[]? outputPadding = null) : base(kind)
    {
        (_in, _out, _k, _s, _p, _d, _same) = (inChannels, outChannels, kernel, stride, padding, dilation, same);
        _transposed = outputPadding is not null;
        _outputPadding = outputPadding ?? new long[kernel.Length];
    }

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        int spatial = _k.Length;
        if (input.Length != spatial + 1 && input.Length != spatial + 2)
        {
            error = Rank($"a {ShapeText.N(spatial + 1)}-D or {ShapeText.N(spatial + 2)}-D input", input);
            return null;
        }
        int channel = input.Length - spatial - 1;
        if (Dim.Differs(input[channel], _in))
        {
            error = Mismatch($"{ShapeText.N(_in)} input channels", input[channel], input);
            return null;
        }
        var output = With(input, channel, _out);
        if (_same) return output;
        for (int i = 0; i < spatial; i++)
        {
            int axis = channel + 1 + i;
            long size = input[axis];
            if (!Dim.IsKnown(size))
            {
                output[axis] = Dim.Unknown;
                continue;
            }
            long span = _d[i] * (_k[i] - 1) + 1;
            if (_transposed)
            {
                long o = (size - 1) * _s[i] - 2 * _p[i] + span + _outputPadding[i];
                output[axis] = o > 0 ? o : Dim.Unknown;
                continue;
            }
            if (size + 2 * _p[i] < span)
            {
                error = Mismatch($"a spatial size of at least {ShapeText.N(span - 2 * _p[i])} in dimension {ShapeText.N(axis)}", size, input);
                return null;
            }
            output[axis] = (size + 2 * _p[i] - span) / _s[i] + 1;
        }
        return output;
    }
}

internal sealed class PoolLayer : Layer
{
    private readonly long[] _k, _s, _p, _d;
    private readonly bool _ceil;

    public PoolLayer(string kind, long[] kernel, long[] stride, long[] padding, long[] dilation, bool ceil) : base(kind) =>
        (_k, _s, _p, _d, _ceil) = (kernel, stride, padding, dilation, ceil);

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        int spatial = _k.Length;
        if (input.Length != spatial + 1 && input.Length != spatial + 2)
        {
            error = Rank($"a {ShapeText.N(spatial + 1)}-D or {ShapeText.N(spatial + 2)}-D input", input);
            return null;
        }
        var output = (long[])input.Clone();
        for (int i = 0; i < spatial; i++)
        {
            int axis = input.Length - spatial + i;
            long size = input[axis];
            if (!Dim.IsKnown(size))
            {
                output[axis] = Dim.Unknown;
                continue;
            }
            long span = _d[i] * (_k[i] - 1) + 1;
            if (size + 2 * _p[i] < span)
            {
                error = Mismatch($"a spatial size of at least {ShapeText.N(span - 2 * _p[i])} in dimension {ShapeText.N(axis)}", size, input);
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

/// <summary>Adaptive pooling: the last dimensions become the output size.</summary>
internal sealed class AdaptivePoolLayer : Layer
{
    private readonly long[] _size;

    public AdaptivePoolLayer(string kind, long[] size) : base(kind) => _size = size;

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        if (input.Length != _size.Length + 1 && input.Length != _size.Length + 2)
        {
            error = Rank($"a {ShapeText.N(_size.Length + 1)}-D or {ShapeText.N(_size.Length + 2)}-D input", input);
            return null;
        }
        var output = (long[])input.Clone();
        for (int i = 0; i < _size.Length; i++) output[input.Length - _size.Length + i] = _size[i];
        return output;
    }
}

/// <summary>LayerNorm: the trailing dimensions must equal the normalized shape.</summary>
internal sealed class LayerNormLayer : Layer
{
    private readonly long[] _shape;

    public LayerNormLayer(long[] shape) : base("LayerNorm") => _shape = shape;

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        if (input.Length < _shape.Length) return null;
        for (int i = 0; i < _shape.Length; i++)
        {
            long actual = input[input.Length - _shape.Length + i];
            if (Dim.Differs(actual, _shape[i]))
            {
                error = _shape.Length == 1
                    ? Mismatch($"a last dimension of {ShapeText.N(_shape[0])}", actual, input)
                    : new ShapeError($"trailing dimensions {ShapeText.Sample(_shape)}", $"input shape {ShapeText.Full(input)}");
                return null;
            }
        }
        return input;
    }
}

/// <summary>BatchNorm, InstanceNorm, GroupNorm: the channel dimension (1) must equal the feature count.</summary>
internal sealed class ChannelNormLayer : Layer
{
    private readonly long _features;
    private readonly int[] _ranks;
    private readonly string _what;

    public ChannelNormLayer(string kind, long features, string what, params int[] ranks) : base(kind) => (_features, _what, _ranks) = (features, what, ranks);

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        if (_ranks.Length > 0 && Array.IndexOf(_ranks, input.Length) < 0)
        {
            error = Rank(string.Join(" or ", _ranks.Select(r => ShapeText.N(r) + "-D")) + " input", input);
            return null;
        }
        if (input.Length < 2) return input;
        if (Dim.Differs(input[1], _features))
        {
            error = Mismatch($"{ShapeText.N(_features)} {_what}", input[1], input);
            return null;
        }
        return input;
    }
}

internal sealed class FlattenLayer : Layer
{
    private readonly long _start, _end;

    public FlattenLayer(long start, long end) : base("Flatten") => (_start, _end) = (start, end);

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        return Flatten(input, _start, _end);
    }

    public static long[]? Flatten(long[] input, long start, long end)
    {
        int rank = input.Length;
        if (rank == 0) return new long[] { 1 };
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        if (start < 0 || end >= rank || start > end) return null;
        var range = input.Skip((int)start).Take((int)(end - start + 1)).ToArray();
        long merged = range.Length == 1 ? range[0] : ShapeText.Product(range) ?? Dim.Unknown;
        return input.Take((int)start).Concat(new[] { merged }).Concat(input.Skip((int)end + 1)).ToArray();
    }
}

/// <summary>Embedding: integer indices of any shape gain a last dimension of the embedding size.</summary>
internal sealed class EmbeddingLayer : Layer
{
    private readonly long _dim;

    public EmbeddingLayer(long dim) : base("Embedding") => _dim = dim;

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        return input.Concat(new[] { _dim }).ToArray();
    }
}

/// <summary>LSTM, GRU, RNN: a tuple of the output and the final states (TorchSharp returns both).</summary>
internal sealed class RecurrentLayer : Layer
{
    private readonly long _input, _hidden, _layers;
    private readonly bool _batchFirst, _bidirectional;

    public RecurrentLayer(string kind, long inputSize, long hiddenSize, long layers, bool batchFirst, bool bidirectional) : base(kind) =>
        (_input, _hidden, _layers, _batchFirst, _bidirectional) = (inputSize, hiddenSize, layers, batchFirst, bidirectional);

    public override Value Apply(IReadOnlyList<Value> arguments, out ShapeError? error)
    {
        error = null;
        if (arguments.Count == 0 || arguments[0] is not TensorValue { Dims: var input }) return Value.Unknown;
        if (input.Length != 2 && input.Length != 3)
        {
            error = Rank("a 2-D or 3-D input", input);
            return Value.Unknown;
        }
        long features = input[input.Length - 1];
        if (Dim.Differs(features, _input))
        {
            error = Mismatch($"{ShapeText.N(_input)} input features", features, input);
            return Value.Unknown;
        }
        long directions = _bidirectional ? 2 : 1;
        var output = With(input, input.Length - 1, directions * _hidden);
        var state = input.Length == 3
            ? new[] { directions * _layers, input[_batchFirst ? 0 : 1], _hidden }
            : new[] { directions * _layers, _hidden };
        var items = new List<Value> { new TensorValue(output), new TensorValue(state) };
        if (Kind == "LSTM") items.Add(new TensorValue(state));
        return new TupleValue(items);
    }
}

/// <summary>MultiheadAttention(query, key, value, …): TorchSharp takes [L, N, E] and returns (output, weights).</summary>
internal sealed class AttentionLayer : Layer
{
    private readonly long _embed, _kdim, _vdim;

    public AttentionLayer(long embed, long kdim, long vdim) : base("MultiheadAttention") => (_embed, _kdim, _vdim) = (embed, kdim, vdim);

    public override Value Apply(IReadOnlyList<Value> arguments, out ShapeError? error)
    {
        error = null;
        if (arguments.Count < 3 || arguments[0] is not TensorValue { Dims: var q }) return Value.Unknown;
        var expected = new[] { ("query", _embed), ("key", _kdim), ("value", _vdim) };
        for (int i = 0; i < 3; i++)
        {
            if (arguments[i] is not TensorValue { Dims: var t } || t.Length == 0) continue;
            if (Dim.Differs(t[t.Length - 1], expected[i].Item2))
            {
                error = new ShapeError($"a {expected[i].Item1} embedding size of {ShapeText.N(expected[i].Item2)}",
                    $"{ShapeText.N(t[t.Length - 1])} ({expected[i].Item1} shape {ShapeText.Full(t)})");
                return Value.Unknown;
            }
        }
        if (q.Length != 3) return Value.Unknown;
        long source = arguments[1] is TensorValue { Rank: 3 } k ? k.Dims[0] : Dim.Unknown;
        return new TupleValue(new Value[] { new TensorValue(q), new TensorValue(new[] { q[1], q[0], source }) });
    }
}

/// <summary>Upsample with a size or a scale factor over the spatial dimensions (2 and after).</summary>
internal sealed class UpsampleLayer : Layer
{
    private readonly long[]? _size;
    private readonly double[]? _scale;

    public UpsampleLayer(long[]? size, double[]? scale) : base("Upsample") => (_size, _scale) = (size, scale);

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        int spatial = input.Length - 2;
        if (spatial < 1) return null;
        var output = (long[])input.Clone();
        for (int i = 0; i < spatial; i++)
        {
            if (_size is not null)
                output[2 + i] = _size.Length == 1 ? _size[0] : _size.Length == spatial ? _size[i] : Dim.Unknown;
            else if (_scale is not null && Dim.IsKnown(input[2 + i]))
                output[2 + i] = _scale.Length == 1 || _scale.Length == spatial ? (long)Math.Floor(input[2 + i] * _scale[_scale.Length == 1 ? 0 : i]) : Dim.Unknown;
            else
                output[2 + i] = Dim.Unknown;
        }
        return output;
    }
}

/// <summary>PixelShuffle(r): [N, C·r², H, W] → [N, C, H·r, W·r].</summary>
internal sealed class PixelShuffleLayer : Layer
{
    private readonly long _r;

    public PixelShuffleLayer(long r) : base("PixelShuffle") => _r = r;

    protected override long[]? Apply(long[] input, out ShapeError? error)
    {
        error = null;
        if (input.Length < 3) return null;
        int c = input.Length - 3;
        long channels = input[c];
        if (Dim.IsKnown(channels) && channels % (_r * _r) != 0)
        {
            error = Mismatch($"a channel count divisible by {ShapeText.N(_r * _r)} (upscale factor {ShapeText.N(_r)} squared)", channels, input);
            return null;
        }
        var output = (long[])input.Clone();
        output[c] = Dim.IsKnown(channels) ? channels / (_r * _r) : Dim.Unknown;
        output[c + 1] = Dim.IsKnown(input[c + 1]) ? input[c + 1] * _r : Dim.Unknown;
        output[c + 2] = Dim.IsKnown(input[c + 2]) ? input[c + 2] * _r : Dim.Unknown;
        return output;
    }
}
