using System;
using System.Collections.Generic;
using System.Linq;

namespace ShapGen.Generators.Parser;

/// <summary>
/// Shape rules of tensor methods and torch functions, with TorchSharp's semantics. Each takes the subject tensor and
/// the other arguments by parameter name; it returns the result, or <see cref="Value.Unknown"/>, and sets an error
/// only for a certain mismatch.
/// </summary>
internal static class TensorOps
{
    private static readonly HashSet<string> SameShape = new(StringComparer.Ordinal)
    {
        "relu", "relu_", "relu6", "sigmoid", "sigmoid_", "tanh", "tanh_", "softmax", "log_softmax", "elu", "elu_", "leaky_relu",
        "leaky_relu_", "softplus", "gelu", "silu", "mish", "selu", "celu", "hardtanh", "hardswish", "hardsigmoid", "dropout", "abs",
        "neg", "exp", "log", "sqrt", "rsqrt", "square", "contiguous", "clone", "detach", "alias", "softmin", "logsigmoid", "softsign",
        "tanhshrink", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "sin", "cos", "clamp", "clip",
        "float", "to_type", "type", "to", "cpu", "cuda", "half", "@double", "requires_grad_", "zeros_like", "ones_like", "rand_like",
        "randn_like", "empty_like", "full_like", "sign", "floor", "ceil", "round", "reciprocal", "normalize", "layer_norm_", "mul_",
        "add_", "div_", "sub_", "clamp_", "dropout_", "erf", "log1p", "expm1", "sigmoid_", "hardtanh_", "pow", "nan_to_num",
        "triu", "tril", "masked_fill", "logit", "double", "bfloat16", "long", "@int", "@bool", "glu_", "threshold",
    };

    private static readonly HashSet<string> Broadcasting = new(StringComparer.Ordinal)
    {
        "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "maximum", "minimum", "atan2", "remainder",
        "fmod", "eq", "ne", "gt", "lt", "ge", "le", "logical_and", "logical_or", "bitwise_and", "bitwise_or", "hypot", "copysign",
    };

    private static readonly HashSet<string> Reductions = new(StringComparer.Ordinal)
    {
        "mean", "sum", "amax", "amin", "argmax", "argmin", "std", "var", "prod", "logsumexp", "nansum", "nanmean", "all", "any", "norm",
        "max", "min", "median", "mode",
    };

    /// <summary>The result of <paramref name="name"/> applied to <paramref name="subject"/> (unknown when the call has no tensor subject).</summary>
    public static Value Apply(string name, Value subject, Arguments args, out ShapeError? error)
    {
        error = null;
        if (subject is not TensorValue tensor)
            return name is "stack" or "cat" or "concat" or "concatenate" or "zeros" or "ones" or "rand" or "randn" or "empty" or "full" or "where"
                ? ApplyWithoutSubject(name, args, out error) : Value.Unknown;
        var x = tensor.Dims;
        if (SameShape.Contains(name))
            return name == "masked_fill" ? Broadcast(x, args.InOrder.FirstOrDefault(), out error, fixedLeft: true) : tensor;
        if (Broadcasting.Contains(name))
            return Broadcast(x, args.InOrder.FirstOrDefault(), out error);
        if (Reductions.Contains(name))
            return Reduce(name, x, args, out error);
        switch (name)
        {
            case "flatten":
                return args.Long("start_dim") is { } start && args.Long("end_dim") is { } end ? T(FlattenLayer.Flatten(x, start, end)) : Value.Unknown;
            case "view" or "reshape":
                return Reshape(x, args.InOrder.FirstOrDefault(), out error);
            case "view_as" or "reshape_as" or "expand_as":
                return args.InOrder.FirstOrDefault() is TensorValue other ? other : Value.Unknown;
            case "permute":
                return Permute(x, args.InOrder.FirstOrDefault(), out error);
            case "transpose" or "swapaxes" or "swapdims":
            {
                if (Arguments.Constant(args.InOrder.ElementAtOrDefault(0)) is not { } a || Arguments.Constant(args.InOrder.ElementAtOrDefault(1)) is not { } b) return Value.Unknown;
                if (Axis(a, x.Length, out error) is not { } i || Axis(b, x.Length, out error) is not { } j) return Value.Unknown;
                var y = (long[])x.Clone();
                (y[i], y[j]) = (y[j], y[i]);
                return new TensorValue(y);
            }
            case "t":
                if (x.Length > 2)
                {
                    error = new ShapeError("a tensor of at most 2 dimensions", "shape " + ShapeText.Full(x));
                    return Value.Unknown;
                }
                return new TensorValue(Enumerable.Reverse(x).ToArray());
            case "squeeze":
            {
                var dim = args["dim"];
                if (dim is ConstantValue { Constant: null } || !args.Has("dim"))
                    return x.All(d => d >= 0) ? new TensorValue(x.Where(d => d != 1).ToArray()) : Value.Unknown;
                if (Arguments.Constant(dim) is not { } d0 || Axis(d0, x.Length, out error) is not { } axis) return Value.Unknown;
                return x[axis] == 1 ? new TensorValue(x.Where((_, k) => k != axis).ToArray()) : x[axis] >= 0 ? tensor : Value.Unknown;
            }
            case "unsqueeze":
            {
                if (args.Long("dim") is not { } d) return Value.Unknown;
                if (Axis(d, x.Length + 1, out error) is not { } axis) return Value.Unknown;
                return new TensorValue(x.Take(axis).Concat(new[] { 1L }).Concat(x.Skip(axis)).ToArray());
            }
            case "select":
            {
                if (args.Long("dim") is not { } d || Axis(d, x.Length, out error) is not { } axis) return Value.Unknown;
                if (args.Long("index") is { } index && x[axis] >= 0 && (index >= x[axis] || index < -x[axis]))
                {
                    error = new ShapeError($"an index below {ShapeText.N(x[axis])} in dimension {ShapeText.N(axis)}", $"{ShapeText.N(index)} (input shape {ShapeText.Full(x)})");
                    return Value.Unknown;
                }
                return new TensorValue(x.Where((_, k) => k != axis).ToArray());
            }
            case "narrow":
            {
                if (args.Long("dim") is not { } d || Axis(d, x.Length, out error) is not { } axis || args.Long("length") is not { } length) return Value.Unknown;
                if (args.Long("start") is { } from && x[axis] >= 0 && from >= 0 && from + length > x[axis])
                {
                    error = new ShapeError($"start + length at most {ShapeText.N(x[axis])} in dimension {ShapeText.N(axis)}",
                        $"{ShapeText.N(from)} + {ShapeText.N(length)} (input shape {ShapeText.Full(x)})");
                    return Value.Unknown;
                }
                return new TensorValue(With(x, axis, length));
            }
            case "chunk":
            case "split":
            case "tensor_split":
                return Split(name, x, args, out error);
            case "matmul" or "mm" or "bmm":
                return MatMul(name, x, args.InOrder.FirstOrDefault(), out error);
            case "expand":
                return Expand(x, args.InOrder.FirstOrDefault(), out error);
            case "repeat":
            {
                if (Sizes(args.InOrder.FirstOrDefault()) is not { } r) return Value.Unknown;
                if (r.Length < x.Length)
                {
                    error = new ShapeError($"at least {ShapeText.N(x.Length)} repeat counts", $"{ShapeText.N(r.Length)} (input shape {ShapeText.Full(x)})");
                    return Value.Unknown;
                }
                var padded = Enumerable.Repeat(1L, r.Length - x.Length).Concat(x).ToArray();
                return new TensorValue(padded.Zip(r, (a, b) => a >= 0 && b >= 0 ? a * b : b == 1 ? a : Dim.Unknown).ToArray());
            }
            case "unflatten":
            {
                if (args.Long("dim") is not { } d || Axis(d, x.Length, out error) is not { } axis || Sizes(args.InOrder.ElementAtOrDefault(1)) is not { } parts) return Value.Unknown;
                var fixedPart = ShapeText.Product(parts.Where(p => p != -1));
                if (fixedPart is null) return Value.Unknown;
                var filled = parts.Select(p => p == -1 ? (x[axis] >= 0 && fixedPart > 0 ? x[axis] / fixedPart.Value : Dim.Unknown) : p).ToArray();
                if (x[axis] >= 0 && (parts.Contains(-1) ? fixedPart == 0 || x[axis] % fixedPart != 0 : fixedPart != x[axis]))
                {
                    error = new ShapeError($"sizes whose product is {ShapeText.N(x[axis])} (dimension {ShapeText.N(axis)} of {ShapeText.Full(x)})", ShapeText.Sample(parts));
                    return Value.Unknown;
                }
                return new TensorValue(x.Take(axis).Concat(filled).Concat(x.Skip(axis + 1)).ToArray());
            }
            case "stack" or "cat" or "concat" or "concatenate" or "where":
                return ApplyWithoutSubject(name, args, out error, tensor);
            case "max_pool1d" or "max_pool2d" or "avg_pool1d" or "avg_pool2d":
            {
                int n = name.EndsWith("1d", StringComparison.Ordinal) ? 1 : 2;
                var k = args.Dims("kernel_size", null, n) ?? args.Dims("kernelSize", null, n);
                var s = args.IsNullOrAbsent("stride") || Sizes(args["stride"]) is { Length: 0 } ? k : args.Dims("stride", null, n);
                var p = args.Dims("padding", 0, n);
                var dl = args.Dims("dilation", 1, n);
                if (k is null || s is null || p is null || dl is null || args.Bool("ceil_mode") is not { } ceil || k.Any(v => v <= 0) || s.Any(v => v <= 0)) return Value.Unknown;
                var layer = new PoolLayer(name, k, s, p, dl, ceil);
                return layer.Apply(new Value[] { tensor }, out error);
            }
            case "adaptive_avg_pool2d" or "adaptive_max_pool2d" or "adaptive_avg_pool1d" or "adaptive_max_pool1d":
            {
                int n = name.EndsWith("1d", StringComparison.Ordinal) ? 1 : 2;
                var size = args.Dims("output_size", null, n) ?? args.Dims("outputSize", null, n);
                return size is null ? Value.Unknown : new AdaptivePoolLayer(name, size).Apply(new Value[] { tensor }, out error);
            }
            default:
                return Value.Unknown;
        }
    }

    /// <summary>The shape of <c>x.shape</c>: the batch as N, unknown sizes as unknown integers.</summary>
    public static Value Shape(TensorValue tensor) =>
        new ListValue(tensor.Dims.Select(d => Dim.BatchFactor(d) is var k && k > 0 ? new BatchSizeValue(k) : (Value)new IntValue(d >= 0 ? d : null)).ToArray());

    private static Value ApplyWithoutSubject(string name, Arguments args, out ShapeError? error, TensorValue? subject = null)
    {
        error = null;
        switch (name)
        {
            case "zeros" or "ones" or "rand" or "randn" or "empty" or "full":
            {
                var first = args.InOrder.FirstOrDefault();
                var dims = first is ListValue ? Sizes(first) : Sizes(new ListValue(args.InOrder.TakeWhile(v => v is IntValue or BatchSizeValue).ToArray()));
                return dims is null || dims.Length == 0 || dims.Any(d => d < -1) ? Value.Unknown : new TensorValue(dims.Select(d => d == -1 ? Dim.Batch : d).ToArray());
            }
            case "where":
            {
                // torch.where(condition, x, y) or x.where(condition, y): all three broadcast together.
                var values = subject is null ? args.InOrder.Take(3).ToList() : new List<Value> { args.InOrder.FirstOrDefault() ?? Value.Unknown, subject, args.InOrder.ElementAtOrDefault(1) ?? Value.Unknown };
                if (values.Count < 3 || values.Any(v => v is not TensorValue && v is not IntValue && v is not ConstantValue)) return Value.Unknown;
                var tensors = values.OfType<TensorValue>().ToList();
                if (tensors.Count == 0) return Value.Unknown;
                Value result = tensors[0];
                foreach (var t in tensors.Skip(1))
                {
                    if (result is not TensorValue r) return Value.Unknown;
                    result = Broadcast(r.Dims, t, out error);
                    if (error is not null) return Value.Unknown;
                }
                return result;
            }
            case "stack" or "cat" or "concat" or "concatenate":
            {
                var list = subject is null ? args.InOrder.FirstOrDefault() : null;
                long dim = (subject is null ? Arguments.Constant(args.InOrder.ElementAtOrDefault(1)) : null) ?? args.Long("dim") ?? 0;
                if (list is not ListValue items || items.Items.Count == 0 || items.Items.Any(v => v is not TensorValue)) return Value.Unknown;
                var shapes = items.Items.Cast<TensorValue>().Select(t => t.Dims).ToList();
                return name == "stack" ? Stack(shapes, dim, out error) : Cat(name, shapes, dim, out error);
            }
            default:
                return Value.Unknown;
        }
    }

    private static Value T(long[]? dims) => dims is null ? Value.Unknown : new TensorValue(dims);

    private static long[] With(long[] shape, int index, long value)
    {
        var copy = (long[])shape.Clone();
        copy[index] = value;
        return copy;
    }

    /// <summary>A dimension index normalised into [0, rank), or an error when it is out of range.</summary>
    private static int? Axis(long d, int rank, out ShapeError? error)
    {
        error = null;
        if (d < -rank || d >= rank)
        {
            error = new ShapeError($"a dimension in [{ShapeText.N(-rank)}, {ShapeText.N(rank - 1)}]", ShapeText.N(d));
            return null;
        }
        return (int)(d < 0 ? d + rank : d);
    }

    /// <summary>Sizes from an integer or a list of them: constants as given, the batch size N as -1, others as unknown.</summary>
    private static long[]? Sizes(Value? value)
    {
        if (value is not ListValue list) return Arguments.Constant(value ?? Value.Unknown) is { } single ? new[] { single } : null;
        var result = new long[list.Items.Count];
        for (int i = 0; i < result.Length; i++)
        {
            if (list.Items[i] is BatchSizeValue) result[i] = -1;
            else if (Arguments.Constant(list.Items[i]) is { } c) result[i] = c;
            else result[i] = Dim.Unknown;
        }
        return result;
    }

    /// <summary>NumPy broadcasting, right-aligned; a size known on both sides that differs and is not 1 is an error.</summary>
    public static Value Broadcast(long[] x, Value? other, out ShapeError? error, bool fixedLeft = false)
    {
        error = null;
        if (other is IntValue or ConstantValue) return new TensorValue(x);
        if (other is not TensorValue { Dims: var y }) return Value.Unknown;
        int rank = Math.Max(x.Length, y.Length);
        var result = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long a = i < rank - x.Length ? 1 : x[i - (rank - x.Length)];
            long b = i < rank - y.Length ? 1 : y[i - (rank - y.Length)];
            if (a == b) result[i] = a;
            else if (a == 1) result[i] = b;
            else if (b == 1) result[i] = a;
            else if (a >= 0 && b >= 0)
            {
                error = new ShapeError("shapes that broadcast (equal sizes or 1 in each dimension)", $"{ShapeText.Full(x)} and {ShapeText.Full(y)}");
                return Value.Unknown;
            }
            else result[i] = Dim.Unknown;
        }
        return new TensorValue(fixedLeft && rank == x.Length ? x : result);
    }

    private static Value Reduce(string name, long[] x, Arguments args, out ShapeError? error)
    {
        error = null;
        var dimArg = args.Has("dim") ? args["dim"] : args.Has("dims") ? args["dims"] : args.Has("dimensions") ? args["dimensions"] : args.Has("dim0") ? new ListValue(new[] { args["dim0"], args["dim1"] }.Concat(args.Has("dim2") ? new[] { args["dim2"] } : Array.Empty<Value>()).ToArray()) : null;
        if (dimArg is null || dimArg is ConstantValue { Constant: null })
        {
            if (args.InOrder.Count > 0 && args.InOrder[0] is TensorValue other) return Broadcast(x, other, out error); // max(other), min(other)
            return args.InOrder.Any(v => v is not ConstantValue && v is not EnumValue) ? Value.Unknown : new TensorValue(Array.Empty<long>());
        }
        var dims = Sizes(dimArg);
        if (dims is null || dims.Any(d => d == Dim.Unknown)) return Value.Unknown;
        var axes = new HashSet<int>();
        foreach (var d in dims)
        {
            if (Axis(d, x.Length, out error) is not { } axis) return Value.Unknown;
            axes.Add(axis);
        }
        bool keep = args.Bool("keepdim") ?? args.Bool("keepDim") ?? false;
        var result = keep ? x.Select((s, i) => axes.Contains(i) ? 1 : s).ToArray() : x.Where((_, i) => !axes.Contains(i)).ToArray();
        var tensor = new TensorValue(result);
        return name is "max" or "min" or "median" or "mode" ? new TupleValue(new Value[] { tensor, tensor }) : tensor;
    }

    /// <summary>view/reshape: a -1 anywhere must divide the elements per sample; the batch passes through x.size(0) or a leading -1.</summary>
    private static Value Reshape(long[] x, Value? shapeArgument, out ShapeError? error)
    {
        error = null;
        var items = shapeArgument is ListValue list ? list.Items : shapeArgument is null ? null : new[] { shapeArgument };
        if (items is null || items.Count == 0) return Value.Unknown;
        var factors = items.Select(v => v is BatchSizeValue b ? b.Factor : 0).ToArray();
        var target = items.Select(v => v is BatchSizeValue ? 1 : Arguments.Constant(v) ?? Dim.Unknown).ToArray();
        if (target.Any(d => d == Dim.Unknown || d < -1 || d == 0)) return Value.Unknown;
        int inferred = target.Count(d => d == -1);
        if (inferred > 1) return Value.Unknown;
        int batchIn = x.Count(d => Dim.BatchFactor(d) > 0);
        int batchOut = factors.Count(f => f > 0);
        if (x.Any(d => d == Dim.Unknown) || batchIn > 1 || batchOut > 1) return Value.Unknown;
        long perSample = ShapeText.Product(x.Select(d => Dim.BatchFactor(d) is var k && k > 0 ? k : d)) ?? -1;
        long known = ShapeText.Product(target.Where(d => d != -1).Concat(factors.Where(f => f > 0))) ?? -1;
        if (perSample < 0 || known < 0) return Value.Unknown;
        var output = target.Select((d, i) => factors[i] > 0 ? Dim.BatchTimes(factors[i]) : d).ToArray();
        int free = Array.IndexOf(target, -1L);
        string wanted = "[" + string.Join(", ", items.Select(v => v is BatchSizeValue b ? (b.Factor == 1 ? "N" : "N*" + ShapeText.N(b.Factor)) : ShapeText.N(Arguments.Constant(v)!.Value))) + "]";
        if (batchIn == batchOut)
        {
            bool fits = inferred == 0 ? known == perSample : known != 0 && perSample % known == 0;
            if (!fits)
            {
                error = new ShapeError($"a shape holding {ShapeText.N(perSample)} elements per sample (input shape {ShapeText.Full(x)})", wanted);
                return Value.Unknown;
            }
            if (free >= 0) output[free] = perSample / known;
            return new TensorValue(output);
        }
        if (batchIn == 1 && batchOut == 0 && inferred == 1)
        {
            if (known != 0 && perSample % known == 0)
            {
                output[free] = Dim.BatchTimes(perSample / known);
                return new TensorValue(output);
            }
            if (free == 0 && x[0] == Dim.Batch)
            {
                error = new ShapeError($"sizes that divide the {ShapeText.N(perSample)} elements per sample (input shape {ShapeText.Full(x)}), so that -1 keeps the batch", wanted);
                return Value.Unknown;
            }
        }
        return Value.Unknown;
    }

    private static Value Permute(long[] x, Value? argument, out ShapeError? error)
    {
        error = null;
        if (Sizes(argument) is not { } order || order.Any(d => d == Dim.Unknown)) return Value.Unknown;
        var axes = new List<int>();
        foreach (var d in order)
        {
            if (Axis(d, x.Length, out error) is not { } axis) return Value.Unknown;
            axes.Add(axis);
        }
        if (axes.Count != x.Length || axes.Distinct().Count() != axes.Count)
        {
            error = new ShapeError($"a permutation of the {ShapeText.N(x.Length)} dimensions of {ShapeText.Full(x)}", ShapeText.Sample(order));
            return Value.Unknown;
        }
        return new TensorValue(axes.Select(a => x[a]).ToArray());
    }

    private static Value Split(string name, long[] x, Arguments args, out ShapeError? error)
    {
        error = null;
        long dim = args.Long("dim") ?? 0;
        if (Axis(dim, x.Length, out error) is not { } axis) return Value.Unknown;
        long size = x[axis];
        var pieces = new List<long>();
        var first = args.InOrder.FirstOrDefault();
        if (name == "chunk")
        {
            if (args.Long("chunks") is not { } chunks || chunks <= 0 || size < 0) return Value.Unknown;
            long step = (size + chunks - 1) / chunks;
            for (long start = 0; start < size && step > 0; start += step) pieces.Add(Math.Min(step, size - start));
        }
        else if (name == "split" && Arguments.Constant(first ?? Value.Unknown) is { } each && !(first is ListValue))
        {
            if (each <= 0 || size < 0) return Value.Unknown;
            for (long start = 0; start < size; start += each) pieces.Add(Math.Min(each, size - start));
        }
        else if (name == "split" && Sizes(first) is { } sizes && sizes.All(s => s >= 0))
        {
            if (size >= 0 && sizes.Sum() != size)
            {
                error = new ShapeError($"split sizes that add up to {ShapeText.N(size)} (dimension {ShapeText.N(axis)} of {ShapeText.Full(x)})", ShapeText.Sample(sizes));
                return Value.Unknown;
            }
            pieces.AddRange(sizes);
        }
        else return Value.Unknown;
        return new ListValue(pieces.Select(p => (Value)new TensorValue(With(x, axis, p))).ToArray());
    }

    private static Value MatMul(string name, long[] a, Value? other, out ShapeError? error)
    {
        error = null;
        if (other is not TensorValue { Dims: var b }) return Value.Unknown;
        int want = name == "mm" ? 2 : name == "bmm" ? 3 : 0;
        if (want > 0 && (a.Length != want || b.Length != want))
        {
            error = new ShapeError($"two {ShapeText.N(want)}-D tensors", $"{ShapeText.Full(a)} and {ShapeText.Full(b)}");
            return Value.Unknown;
        }
        if (a.Length == 0 || b.Length == 0) return Value.Unknown;
        long inner = a[a.Length - 1];
        long rows = b.Length == 1 ? b[0] : b[b.Length - 2];
        if (Dim.Differs(inner, rows))
        {
            error = new ShapeError($"a second operand with {ShapeText.N(inner)} rows (first operand {ShapeText.Full(a)})", $"{ShapeText.N(rows)} (second operand {ShapeText.Full(b)})");
            return Value.Unknown;
        }
        if (a.Length == 1 && b.Length == 1) return new TensorValue(Array.Empty<long>());
        if (b.Length == 1) return new TensorValue(a.Take(a.Length - 1).ToArray());
        if (a.Length == 1) return new TensorValue(b.Take(b.Length - 2).Concat(new[] { b[b.Length - 1] }).ToArray());
        var batchA = a.Take(a.Length - 2).ToArray();
        var batchB = b.Take(b.Length - 2).ToArray();
        var batch = Broadcast(batchA, new TensorValue(batchB), out error);
        if (error is not null)
        {
            error = new ShapeError("batch dimensions that broadcast", $"{ShapeText.Full(a)} and {ShapeText.Full(b)}");
            return Value.Unknown;
        }
        if (name == "bmm" && Dim.Differs(a[0], b[0]))
        {
            error = new ShapeError("equal batch sizes", $"{ShapeText.Full(a)} and {ShapeText.Full(b)}");
            return Value.Unknown;
        }
        if (batch is not TensorValue bt) return Value.Unknown;
        return new TensorValue(bt.Dims.Concat(new[] { a[a.Length - 2], b[b.Length - 1] }).ToArray());
    }

    private static Value Expand(long[] x, Value? argument, out ShapeError? error)
    {
        error = null;
        if (Sizes(argument) is not { } target) return Value.Unknown;
        var items = (argument as ListValue)?.Items;
        if (target.Length < x.Length)
        {
            error = new ShapeError($"at least {ShapeText.N(x.Length)} sizes", $"{ShapeText.N(target.Length)} (input shape {ShapeText.Full(x)})");
            return Value.Unknown;
        }
        int offset = target.Length - x.Length;
        var result = new long[target.Length];
        for (int i = 0; i < target.Length; i++)
        {
            bool batch = items is not null && items[i] is BatchSizeValue;
            long t = batch ? Dim.Batch : target[i];
            long s = i >= offset ? x[i - offset] : 1;
            if (!batch && t == -1) { result[i] = s; continue; }
            if (s != 1 && Dim.Differs(s, t))
            {
                error = new ShapeError($"sizes equal to the input's or expanding a size of 1 (input shape {ShapeText.Full(x)})", ShapeText.Sample(target));
                return Value.Unknown;
            }
            result[i] = t;
        }
        return new TensorValue(result);
    }

    private static Value Stack(List<long[]> shapes, long dim, out ShapeError? error)
    {
        error = null;
        var first = shapes[0];
        for (int i = 1; i < shapes.Count; i++)
        {
            if (shapes[i].Length != first.Length || shapes[i].Zip(first, Dim.Differs).Any(d => d))
            {
                error = new ShapeError($"tensors of equal shape (first tensor {ShapeText.Full(first)})", $"tensor {ShapeText.N(i)} of shape {ShapeText.Full(shapes[i])}");
                return Value.Unknown;
            }
        }
        if (Axis(dim, first.Length + 1, out error) is not { } axis) return Value.Unknown;
        var joined = shapes.Aggregate((a, b) => a.Length == b.Length ? a.Zip(b, Dim.Join).ToArray() : a);
        return new TensorValue(joined.Take(axis).Concat(new[] { (long)shapes.Count }).Concat(joined.Skip(axis)).ToArray());
    }

    private static Value Cat(string name, List<long[]> shapes, long dim, out ShapeError? error)
    {
        error = null;
        var first = shapes[0];
        int rank = first.Length;
        if (Axis(dim, rank, out error) is not { } axis) return Value.Unknown;
        var result = (long[])first.Clone();
        for (int i = 1; i < shapes.Count; i++)
        {
            var shape = shapes[i];
            if (shape.Length != rank)
            {
                error = new ShapeError($"tensors of {ShapeText.N(rank)} dimensions (first tensor {ShapeText.Full(first)})", $"tensor {ShapeText.N(i)} of shape {ShapeText.Full(shape)}");
                return Value.Unknown;
            }
            for (int d = 0; d < rank; d++)
            {
                if (d == axis) continue;
                if (Dim.Differs(shape[d], result[d]))
                {
                    error = new ShapeError($"equal sizes except in dimension {ShapeText.N(axis)} (first tensor {ShapeText.Full(first)})", $"tensor {ShapeText.N(i)} of shape {ShapeText.Full(shape)}");
                    return Value.Unknown;
                }
                result[d] = Dim.Join(result[d], shape[d]);
            }
            result[axis] = result[axis] >= 0 && shape[axis] >= 0 ? result[axis] + shape[axis] : Dim.Unknown;
        }
        return new TensorValue(result);
    }
}
