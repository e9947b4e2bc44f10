using System;
using System.Buffers.Binary;
using System.Collections.Generic;
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
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The path is a directory.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid .npy file; the message names it and the problem.</exception>
    /// <exception cref="NotSupportedException">The dtype is not a fixed-size numeric or string one.</exception>
    public static Tensor Load(string path)
    {
        DataFile.CheckExists(path, ".npy file");
        using var stream = File.OpenRead(path);
        return Read(stream, $"'{path}'", stream.Length).ToTensor();
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
    /// <exception cref="InvalidDataException">
    /// The stream is not a .npy file, its header is malformed (a negative or non-integer dimension included), or it
    /// holds fewer bytes than its shape needs; checked before the data is allocated where the stream's length is known.
    /// </exception>
    /// <exception cref="NotSupportedException">The dtype is an object (pickled), datetime or other non-fixed-size one.</exception>
    public static NpyArray Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, "the .npy stream", stream.CanSeek ? stream.Length - stream.Position : null);
    }

    /// <summary>Reads one .npy array; errors name <paramref name="source"/>; <paramref name="available"/> bytes remain when known.</summary>
    internal static NpyArray Read(Stream stream, string source, long? available)
    {
        var preamble = new byte[12];
        int got = stream.ReadAtLeast(preamble.AsSpan(0, 8), 8, throwOnEndOfStream: false);
        if (got < 8 || !preamble.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{source} is not a .npy file: it does not start with the 6 bytes \\x93NUMPY and a version.");
        int major = preamble[6];
        if (major is not (1 or 2 or 3))
            throw new InvalidDataException($"{source}: unsupported .npy format version {major}.{preamble[7]}; expected 1.0, 2.0 or 3.0.");
        int lengthBytes = major == 1 ? 2 : 4;
        got += stream.ReadAtLeast(preamble.AsSpan(8, lengthBytes), lengthBytes, throwOnEndOfStream: false);
        if (got < 8 + lengthBytes)
            throw new InvalidDataException($"{source} is cut off inside its {8 + lengthBytes}-byte .npy preamble ({got} bytes).");
        long headerLength = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(preamble.AsSpan(8))
            : BinaryPrimitives.ReadUInt32LittleEndian(preamble.AsSpan(8));
        long? afterPreamble = available - (8 + lengthBytes);
        byte[] headerBytes = DataFile.ReadExactly(stream, headerLength, afterPreamble, source, "the .npy header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (descr, fortran, shape) = ParseHeader(header, source);
        int itemSize;
        try { itemSize = new NpyArray(descr, new long[] { 0 }, Array.Empty<byte>()).ItemSize; }
        catch (ArgumentException e)
        {
            throw new NotSupportedException(
                $"{source}: the .npy dtype '{descr}' is not supported (object, datetime and structured arrays are not): {e.Message}", e);
        }
        long needed = DataFile.ByteCount(shape, itemSize, source);
        var data = DataFile.ReadExactly(stream, needed, afterPreamble - headerLength, source,
                                       $"the shape {Shapes.Format(shape)} of '{descr}'");
        return new NpyArray(descr, shape, data, fortran);
    }

    private static (string Descr, bool Fortran, long[] Shape) ParseHeader(string header, string source)
    {
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shape.Success)
            throw new InvalidDataException(
                $"{source} has a malformed or unsupported .npy header (expected 'descr', 'fortran_order' and 'shape'; structured dtypes are not supported): {Excerpt(header)}");
        var dims = new List<long>();
        foreach (string text in shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(text.TrimEnd('L'), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long d))
                throw new InvalidDataException($"{source}: the .npy header's shape ({shape.Groups[1].Value}) has '{Excerpt(text)}', which is not a 64-bit integer.");
            dims.Add(d);
        }
        return (descr.Groups[1].Value, fortran.Groups[1].Value == "True", dims.ToArray());
    }

    private static string Excerpt(string text)
    {
        text = text.TrimEnd();
        return text.Length <= 200 ? text : text[..200] + "…";
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]+)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
