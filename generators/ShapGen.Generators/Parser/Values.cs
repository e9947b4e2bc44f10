using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace ShapGen.Generators.Parser;

/// <summary>
/// One dimension in the lattice the interpreter works on: a known size (0 or more), the symbolic batch size
/// <see cref="Batch"/>, or <see cref="Unknown"/>. Dimensions are stored as plain longs with these two markers.
/// </summary>
internal static class Dim
{
    /// <summary>The batch size N of the inputs: unknown, but the same wherever it appears.</summary>
    public const long Batch = -1;

    /// <summary>Nothing is known about the size.</summary>
    public const long Unknown = -2;

    public static bool IsKnown(long d) => d >= 0;

    /// <summary>N · <paramref name="factor"/> (a batch of sequences flattened into one dimension); N itself for 1.</summary>
    public static long BatchTimes(long factor) => factor == 1 ? Batch : factor > 1 && factor < (1L << 40) ? -2 - factor : Unknown;

    /// <summary>The k of a dimension N · k; 0 when the dimension is not a multiple of the batch.</summary>
    public static long BatchFactor(long d) => d == Batch ? 1 : d < -3 ? -2 - d : 0;

    /// <summary>Equal stays, anything else becomes unknown.</summary>
    public static long Join(long a, long b) => a == b ? a : Unknown;

    /// <summary>True only when both sizes are known constants and they differ: a certain mismatch.</summary>
    public static bool Differs(long actual, long expected) => actual >= 0 && expected >= 0 && actual != expected;
}

/// <summary>An abstract value: what the interpreter knows about a C# value at one point of the program.</summary>
internal abstract class Value
{
    /// <summary>Nothing is known (the lattice's top).</summary>
    public static readonly Value Unknown = new UnknownValue();

    public static Value Join(Value a, Value b)
    {
        if (ReferenceEquals(a, b) || a.Equals(b)) return a;
        switch (a, b)
        {
            case (TensorValue x, TensorValue y) when x.Rank == y.Rank:
                return new TensorValue(x.Dims.Zip(y.Dims, Dim.Join).ToArray());
            case (TupleValue x, TupleValue y) when x.Items.Count == y.Items.Count:
                return new TupleValue(x.Items.Zip(y.Items, Join).ToArray());
            case (ListValue x, ListValue y) when x.Items.Count == y.Items.Count:
                return new ListValue(x.Items.Zip(y.Items, Join).ToArray());
            case (IntValue, IntValue):
            case (IntValue, BatchSizeValue):
            case (BatchSizeValue, IntValue):
                return new IntValue(null);
            default:
                return Unknown;
        }
    }

    private sealed class UnknownValue : Value
    {
        public override bool Equals(object? obj) => obj is UnknownValue;

        public override int GetHashCode() => 1;

        public override string ToString() => "?";
    }
}

/// <summary>An integer: a constant, or unknown (null).</summary>
internal sealed class IntValue : Value
{
    public IntValue(long? constant) => Constant = constant;

    public long? Constant { get; }

    public override bool Equals(object? obj) => obj is IntValue other && other.Constant == Constant;

    public override int GetHashCode() => Constant.GetHashCode();

    public override string ToString() => Constant?.ToString(CultureInfo.InvariantCulture) ?? "int?";
}

/// <summary>The batch size N, or a constant multiple of it, read from a tensor (<c>x.shape[0]</c>, <c>x.size(0) * t</c>).</summary>
internal sealed class BatchSizeValue : Value
{
    public static readonly BatchSizeValue Instance = new(1);

    public BatchSizeValue(long factor) => Factor = factor;

    /// <summary>The value is N · <see cref="Factor"/>.</summary>
    public long Factor { get; }

    public override bool Equals(object? obj) => obj is BatchSizeValue other && other.Factor == Factor;

    public override int GetHashCode() => Factor.GetHashCode();

    public override string ToString() => Factor == 1 ? "N" : "N*" + Factor.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A constant of another simple kind: a bool, a double, a string, null, or an enum member (by name).</summary>
internal sealed class ConstantValue : Value
{
    public ConstantValue(object? constant) => Constant = constant;

    public object? Constant { get; }

    public override bool Equals(object? obj) => obj is ConstantValue other && Equals(other.Constant, Constant);

    public override int GetHashCode() => Constant?.GetHashCode() ?? 0;

    public override string ToString() => Convert.ToString(Constant, CultureInfo.InvariantCulture) ?? "null";
}

/// <summary>An enum member, kept by name so that rules read as the user wrote them (<c>Padding.Same</c>).</summary>
internal sealed class EnumValue : Value
{
    public EnumValue(string type, string member) => (Type, Member) = (type, member);

    public string Type { get; }

    public string Member { get; }

    public override bool Equals(object? obj) => obj is EnumValue other && other.Type == Type && other.Member == Member;

    public override int GetHashCode() => Member.GetHashCode();
}

/// <summary>A tensor whose rank is known; each dimension is a <see cref="Dim"/> value. Index 0 is usually the batch.</summary>
internal sealed class TensorValue : Value
{
    public TensorValue(long[] dims) => Dims = dims;

    public long[] Dims { get; }

    public int Rank => Dims.Length;

    /// <summary>The per-sample shape when dimension 0 is the batch and every other size is known; else null.</summary>
    public long[]? PerSample => Rank >= 1 && Dims[0] == Dim.Batch && Dims.Skip(1).All(Dim.IsKnown) ? Dims.Skip(1).ToArray() : null;

    public override bool Equals(object? obj) => obj is TensorValue other && other.Dims.SequenceEqual(Dims);

    public override int GetHashCode() => Dims.Aggregate(17, (h, d) => h * 31 + d.GetHashCode());

    public override string ToString() => ShapeText.Full(Dims);
}

/// <summary>A C# tuple or <c>System.Tuple</c> (LSTM's output, <c>max(dim)</c>'s values and indexes).</summary>
internal sealed class TupleValue : Value
{
    public TupleValue(IReadOnlyList<Value> items) => Items = items;

    public IReadOnlyList<Value> Items { get; }

    public override bool Equals(object? obj) => obj is TupleValue other && other.Items.SequenceEqual(Items);

    public override int GetHashCode() => Items.Aggregate(19, (h, v) => h * 31 + v.GetHashCode());
}

/// <summary>An array or a list with known length (elements may be unknown). Lists are values: <c>Add</c> rebinds the local.</summary>
internal sealed class ListValue : Value
{
    public ListValue(IReadOnlyList<Value> items) => Items = items;

    public IReadOnlyList<Value> Items { get; }

    public override bool Equals(object? obj) => obj is ListValue other && other.Items.SequenceEqual(Items);

    public override int GetHashCode() => Items.Aggregate(23, (h, v) => h * 31 + v.GetHashCode());
}

/// <summary>An instance of a user class (a module written in source): its type and the values of its fields.</summary>
internal sealed class ObjectValue : Value
{
    public ObjectValue(INamedTypeSymbol type) => Type = type;

    public INamedTypeSymbol Type { get; }

    public Dictionary<IFieldSymbol, Value> Fields { get; } = new(SymbolEqualityComparer.Default);

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

/// <summary>
/// A module: a TorchSharp layer with a shape rule (<see cref="Layer"/>; null when it has none), a Sequential of
/// children, or a user module (<see cref="Object"/>). <see cref="Path"/> is its named_modules path when known.
/// </summary>
internal sealed class ModuleValue : Value
{
    public ModuleValue(string kind, Layer? layer = null, IReadOnlyList<(string Name, Value Module)>? children = null, ObjectValue? obj = null, string? path = null)
    {
        Kind = kind;
        Layer = layer;
        Children = children;
        Object = obj;
        Path = path;
    }

    public string Kind { get; }

    public Layer? Layer { get; }

    public IReadOnlyList<(string Name, Value Module)>? Children { get; }

    public ObjectValue? Object { get; }

    public string? Path { get; }

    public ModuleValue At(string? path) => path == Path ? this : new ModuleValue(Kind, Layer, Children, Object, path);

    public override bool Equals(object? obj) =>
        obj is ModuleValue other && other.Kind == Kind && ReferenceEquals(other.Layer, Layer) && ReferenceEquals(other.Children, Children) &&
        ReferenceEquals(other.Object, Object) && other.Path == Path;

    public override int GetHashCode() => Kind.GetHashCode() ^ (Path?.GetHashCode() ?? 0);
}

internal static class ShapeText
{
    /// <summary>A full shape: the batch as N, unknown sizes as ?.</summary>
    public static string Full(IEnumerable<long> shape) => "[" + string.Join(", ", shape.Select(D)) + "]";

    public static string Sample(IEnumerable<long> shape) => "[" + string.Join(", ", shape.Select(D)) + "]";

    public static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string D(long d) => d switch { Dim.Batch => "N", Dim.Unknown => "?", < -3 => "N*" + N(Dim.BatchFactor(d)), _ => N(d) };

    /// <summary>Multiplies known sizes without overflow; null when one is not known or the product exceeds 2^50.</summary>
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
