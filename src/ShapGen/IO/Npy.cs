using System;
using System.Buffers.Binary;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format version 1.0 written; 1.0, 2.0 and 3.0 read), byte for byte as
/// <c>numpy.save</c> writes them: the magic <c>\x93NUMPY</c>, version 1.0, a little-endian header length, and a
/// Python dict header <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c> padded with spaces and
/// a final newline so that the data starts at a multiple of 64 bytes (numpy ≥ 1.23 also leaves room for the growth axis to
/// reach 21 digits; so does this writer).
/// </summary>
public static partial class Npy
{
    /// <summary>The six magic bytes every .npy file starts with.</summary>
    public static ReadOnlySpan<byte> Magic => new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Alignment of the data start, as numpy uses.</summary>
    public const int Alignment = 64;

    /// <summary>numpy's spare header room: the growth axis (first, or last in Fortran order) may reach this many digits.</summary>
    public const int GrowthAxisMaxDigits = 21;

    /// <summary>Writes a tensor (any device; not disposed) to a .npy file.</summary>
    public static void Save(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.Create(path);
        Write(stream, NpyArray.FromTensor(tensor));
    }

    /// <summary>Reads a .npy file into a new CPU tensor; the caller owns it.</summary>
    public static Tensor Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Read(stream).ToTensor();
    }

    /// <summary>Writes an array in .npy format 1.0 (2.0 only if the header exceeds 65,535 bytes).</summary>
    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        stream.Write(FormatHeader(array.Descr, array.Shape, array.FortranOrder));
        stream.Write(array.Data);
    }

    /// <summary>
    /// The complete .npy preamble (magic, version, header length, padded header) for an array, exactly as numpy
    /// writes it.
    /// </summary>
    public static byte[] FormatHeader(string descr, long[] shape, bool fortranOrder)
    {
        ArgumentNullException.ThrowIfNull(descr);
        ArgumentNullException.ThrowIfNull(shape);
        string shapeText = shape.Length switch
        {
            0 => "()",
            1 => "(" + shape[0].ToString(CultureInfo.InvariantCulture) + ",)",
            _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
        };
        string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortranOrder ? "True" : "False") +
                      ", 'shape': " + shapeText + ", }";
        // numpy (format.py, GROWTH_AXIS_MAX_DIGITS = 21) leaves room for the growth axis to reach 21 digits.
        int growth = shape.Length == 0 ? 0 : Math.Max(0, GrowthAxisMaxDigits -
            shape[fortranOrder ? ^1 : 0].ToString(CultureInfo.InvariantCulture).Length);
        byte[] text = Encoding.ASCII.GetBytes(dict + new string(' ', growth));
        int prefix = 6 + 2 + 2;
        int major = 1;
        int total = RoundUp(prefix + text.Length + 1, Alignment);
        if (total - prefix > ushort.MaxValue)
        {
            major = 2;
            prefix = 6 + 2 + 4;
            total = RoundUp(prefix + text.Length + 1, Alignment);
        }
        var header = new byte[total];
        Magic.CopyTo(header);
        header[6] = (byte)major;
        header[7] = 0;
        int headerLength = total - prefix;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)headerLength);
        else BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)headerLength);
        text.CopyTo(header, prefix);
        header.AsSpan(prefix + text.Length, total - prefix - text.Length - 1).Fill((byte)' ');
        header[total - 1] = (byte)'\n';
        return header;
    }

    /// <summary>Reads one .npy array from a stream (format versions 1.0, 2.0 and 3.0).</summary>
    /// <exception cref="InvalidDataException">The stream is not a .npy file or its header is malformed.</exception>
    /// <exception cref="NotSupportedException">The dtype is an object (pickled), datetime or other non-fixed-size one.</exception>
    public static NpyArray Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var magic = new byte[8];
        stream.ReadExactly(magic);
        if (!magic.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException("Not a .npy file: the first six bytes are not \\x93NUMPY.");
        int major = magic[6];
        int headerLength;
        if (major == 1)
        {
            var len = new byte[2];
            stream.ReadExactly(len);
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(len);
        }
        else if (major is 2 or 3)
        {
            var len = new byte[4];
            stream.ReadExactly(len);
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(len));
        }
        else
        {
            throw new InvalidDataException($"Unsupported .npy format version {major}.{magic[7]}; expected 1.0, 2.0 or 3.0.");
        }
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (descr, fortran, shape) = ParseHeader(header);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        int itemSize;
        try { itemSize = new NpyArray(descr, new long[] { 0 }, Array.Empty<byte>()).ItemSize; }
        catch (ArgumentException e)
        {
            throw new NotSupportedException(
                $"The .npy dtype '{descr}' is not supported (object, datetime and structured arrays are not): {e.Message}", e);
        }
        var data = new byte[checked(count * itemSize)];
        stream.ReadExactly(data);
        return new NpyArray(descr, shape, data, fortran);
    }

    private static (string Descr, bool Fortran, long[] Shape) ParseHeader(string header)
    {
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shape.Success)
            throw new InvalidDataException(
                $"Malformed or unsupported .npy header (structured dtypes are not supported): {header.TrimEnd()}");
        long[] dims = shape.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture))
            .ToArray();
        return (descr.Groups[1].Value, fortran.Groups[1].Value == "True", dims);
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]+)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
