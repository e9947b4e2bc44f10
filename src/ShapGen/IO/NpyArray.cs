using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// One NumPy array as it lies in a <c>.npy</c> file: its dtype descriptor (e.g. <c>&lt;f4</c>), shape, memory order
/// and raw element bytes. Keeps the bytes untouched, so reading and writing it again is bitwise exact.
/// </summary>
public sealed class NpyArray
{
    /// <summary>Creates an array; checks that <paramref name="data"/> holds exactly the elements the shape asks for.</summary>
    /// <param name="descr">NumPy dtype descriptor: byte order (<c>&lt;</c>, <c>&gt;</c>, <c>|</c>, <c>=</c>), kind and item size, e.g. <c>&lt;f8</c>, <c>|u1</c>.</param>
    /// <param name="shape">The array's shape (empty for a scalar).</param>
    /// <param name="data">The element bytes in file order.</param>
    /// <param name="fortranOrder">True when the elements are stored column-major.</param>
    public NpyArray(string descr, long[] shape, byte[] data, bool fortranOrder = false)
    {
        ArgumentNullException.ThrowIfNull(descr);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        ItemSize = ParseItemSize(descr);
        if (shape.Any(d => d < 0))
            throw new ArgumentException($"The shape must have no negative dimension; it is {Shapes.Format(shape)}.", nameof(shape));
        long expected = shape.Aggregate(1L, (a, b) => a * b) * ItemSize;
        if (data.LongLength != expected)
            throw new ArgumentException(
                $"An array of dtype '{descr}' and shape {Shapes.Format(shape)} needs {expected} bytes; data has {data.LongLength}.",
                nameof(data));
        Descr = descr;
        Shape = shape;
        Data = data;
        FortranOrder = fortranOrder;
    }

    /// <summary>The NumPy dtype descriptor, e.g. <c>&lt;f4</c>.</summary>
    public string Descr { get; }

    /// <summary>The shape.</summary>
    public long[] Shape { get; }

    /// <summary>The raw element bytes, in file order.</summary>
    public byte[] Data { get; }

    /// <summary>True when the elements are stored column-major (Fortran order).</summary>
    public bool FortranOrder { get; }

    /// <summary>Bytes per element.</summary>
    public int ItemSize { get; }

    /// <summary>Number of elements.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// Copies the array into a new CPU tensor of the matching dtype (big-endian data is byte-swapped, Fortran order
    /// is turned into row-major). The caller owns the tensor.
    /// </summary>
    /// <exception cref="NotSupportedException">The dtype has no TorchSharp equivalent (e.g. <c>&lt;u2</c>, strings).</exception>
    public Tensor ToTensor()
    {
        var type = ScalarTypeOf(Descr);
        byte[] bytes = Data;
        if (Descr[0] == '>' && ItemSize > 1)
        {
            bytes = (byte[])Data.Clone();
            int swap = Descr[1] == 'c' ? ItemSize / 2 : ItemSize;
            for (int i = 0; i < bytes.Length; i += swap) Array.Reverse(bytes, i, swap);
        }
        using var scope = NewDisposeScope();
        long[] storeShape = FortranOrder ? Shape.Reverse().ToArray() : Shape;
        var t = empty(storeShape, dtype: type);
        if (bytes.Length > 0) t.bytes = bytes;
        if (FortranOrder && Shape.Length > 1)
            t = t.permute(Enumerable.Range(0, Shape.Length).Reverse().Select(i => (long)i).ToArray()).contiguous();
        return t.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Copies a tensor (any device, any layout) into a little-endian, row-major array. Does not dispose the tensor.
    /// </summary>
    /// <exception cref="NotSupportedException">The dtype has no NumPy equivalent (bfloat16).</exception>
    public static NpyArray FromTensor(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        string descr = DescrOf(tensor.dtype);
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        byte[] data = cpu.numel() == 0 ? Array.Empty<byte>() : cpu.bytes.ToArray();
        return new NpyArray(descr, tensor.shape.ToArray(), data);
    }

    /// <summary>The NumPy descriptor of a TorchSharp dtype, e.g. <c>float32</c> → <c>&lt;f4</c>.</summary>
    /// <exception cref="NotSupportedException">The dtype has no NumPy equivalent (bfloat16).</exception>
    public static string DescrOf(ScalarType type) => type switch
    {
        ScalarType.Byte => "|u1",
        ScalarType.Int8 => "|i1",
        ScalarType.Bool => "|b1",
        ScalarType.Int16 => "<i2",
        ScalarType.Int32 => "<i4",
        ScalarType.Int64 => "<i8",
        ScalarType.Float16 => "<f2",
        ScalarType.Float32 => "<f4",
        ScalarType.Float64 => "<f8",
        ScalarType.ComplexFloat32 => "<c8",
        ScalarType.ComplexFloat64 => "<c16",
        _ => throw new NotSupportedException($"NumPy has no dtype for {type}; convert the tensor (e.g. to float32) first."),
    };

    /// <summary>True when <see cref="ToTensor"/> can convert arrays of this NumPy descriptor.</summary>
    public static bool HasTensorType(string descr)
    {
        try { ScalarTypeOf(descr); return true; }
        catch (NotSupportedException) { return false; }
    }

    /// <summary>The TorchSharp dtype of a NumPy descriptor, e.g. <c>|u1</c> → <c>Byte</c>.</summary>
    /// <exception cref="NotSupportedException">The dtype has no TorchSharp equivalent.</exception>
    public static ScalarType ScalarTypeOf(string descr)
    {
        ArgumentNullException.ThrowIfNull(descr);
        string body = descr.Length > 1 && "<>|=".Contains(descr[0]) ? descr[1..] : descr;
        return body switch
        {
            "u1" => ScalarType.Byte,
            "i1" => ScalarType.Int8,
            "b1" => ScalarType.Bool,
            "i2" => ScalarType.Int16,
            "i4" => ScalarType.Int32,
            "i8" => ScalarType.Int64,
            "f2" => ScalarType.Float16,
            "f4" => ScalarType.Float32,
            "f8" => ScalarType.Float64,
            "c8" => ScalarType.ComplexFloat32,
            "c16" => ScalarType.ComplexFloat64,
            _ => throw new NotSupportedException($"The NumPy dtype '{descr}' has no TorchSharp equivalent."),
        };
    }

    /// <summary>Makes a NumPy unicode string array (<c>&lt;U n</c>, UTF-32 little-endian) from strings, e.g. for labels.</summary>
    public static NpyArray FromStrings(IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var runes = values.Select(v => (v ?? string.Empty).EnumerateRunes().ToArray()).ToArray();
        int width = Math.Max(1, runes.Length == 0 ? 1 : runes.Max(r => r.Length));
        var data = new byte[values.Count * width * 4];
        for (int i = 0; i < runes.Length; i++)
            for (int j = 0; j < runes[i].Length; j++)
                BitConverter.TryWriteBytes(data.AsSpan((i * width + j) * 4, 4), runes[i][j].Value);
        return new NpyArray("<U" + width.ToString(CultureInfo.InvariantCulture), new long[] { values.Count }, data);
    }

    /// <summary>Reads a one-dimensional unicode array (<c>&lt;U n</c>) back into strings.</summary>
    /// <exception cref="NotSupportedException">The array is not a little-endian unicode array.</exception>
    public string[] ToStrings()
    {
        if (!Descr.StartsWith("<U", StringComparison.Ordinal))
            throw new NotSupportedException($"Only '<U' string arrays can be read as strings; this one is '{Descr}'.");
        int width = ItemSize / 4;
        var result = new string[Count];
        for (long i = 0; i < result.Length; i++)
        {
            var sb = new System.Text.StringBuilder();
            for (int j = 0; j < width; j++)
            {
                int cp = BitConverter.ToInt32(Data, (int)((i * width + j) * 4));
                if (cp == 0) break;
                sb.Append(char.ConvertFromUtf32(cp));
            }
            result[i] = sb.ToString();
        }
        return result;
    }

    private static int ParseItemSize(string descr)
    {
        if (descr.Length < 3 || !"<>|=".Contains(descr[0]) ||
            !int.TryParse(descr.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0)
            throw new ArgumentException($"'{descr}' is not a NumPy dtype descriptor such as '<f4' or '|u1'.", nameof(descr));
        return descr[1] == 'U' ? checked(n * 4) : n;
    }
}
