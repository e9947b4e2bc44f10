using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Reads the IDX files of MNIST and Fashion-MNIST (e.g. <c>t10k-images-idx3-ubyte</c>), gzip-compressed or not
/// (detected from the content, not the file name). IDX is big-endian: a magic number whose third byte is the
/// element type and fourth the number of dimensions, then one 32-bit size per dimension, then the data.
/// </summary>
public static class Idx
{
    /// <summary>The magic number of an MNIST image file (unsigned bytes, 3 dimensions).</summary>
    public const int ImagesMagic = 2051;

    /// <summary>The magic number of an MNIST label file (unsigned bytes, 1 dimension).</summary>
    public const int LabelsMagic = 2049;

    /// <summary>Reads an image file (magic 2051) into a new uint8 CPU tensor [N, rows, cols]; the caller owns it.</summary>
    /// <param name="path">The file, <c>.gz</c> or not.</param>
    /// <param name="count">Read only the first <paramref name="count"/> images, or all when null.</param>
    /// <exception cref="InvalidDataException">The file is not an IDX image file.</exception>
    public static Tensor ReadImages(string path, int? count = null) => ReadChecked(path, ImagesMagic, "image", count);

    /// <summary>
    /// Reads a label file (magic 2049) into a new int64 CPU tensor [N] (the dtype losses such as cross-entropy
    /// take); the caller owns it.
    /// </summary>
    /// <param name="path">The file, <c>.gz</c> or not.</param>
    /// <param name="count">Read only the first <paramref name="count"/> labels, or all when null.</param>
    /// <exception cref="InvalidDataException">The file is not an IDX label file.</exception>
    public static Tensor ReadLabels(string path, int? count = null)
    {
        using var bytes = ReadChecked(path, LabelsMagic, "label", count);
        return bytes.to_type(int64);
    }

    /// <summary>
    /// Reads any IDX file into a new CPU tensor of its element type (uint8, int8, int16, int32, float32 or
    /// float64); the caller owns it.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not an IDX file.</exception>
    public static Tensor Read(string path) => ReadCore(path, null, null, null);

    /// <summary>
    /// Finds an MNIST/Fashion-MNIST image and label file pair of one split in a folder: names containing
    /// <c>{split}-images-idx3-ubyte</c> and <c>{split}-labels-idx1-ubyte</c>, with or without a prefix
    /// (<c>mnist-</c>) or <c>.gz</c>. Returns null when either is missing.
    /// </summary>
    /// <param name="directory">The folder to look in (not searched recursively).</param>
    /// <param name="split"><c>t10k</c> (test, the default) or <c>train</c>.</param>
    public static (string Images, string Labels)? Find(string directory, string split = "t10k")
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(split);
        if (!Directory.Exists(directory)) return null;
        string? Pick(string kind) => Directory.EnumerateFiles(directory)
            .Where(f => Path.GetFileName(f).Contains($"{split}-{kind}", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => Path.GetFileName(f).Length).ThenBy(f => f, StringComparer.Ordinal)
            .FirstOrDefault();
        string? images = Pick("images-idx3-ubyte"), labels = Pick("labels-idx1-ubyte");
        return images is null || labels is null ? null : (images, labels);
    }

    private static Tensor ReadChecked(string path, int magic, string what, int? count)
    {
        if (count is < 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must be non-negative.");
        return ReadCore(path, magic, what, count);
    }

    private static Tensor ReadCore(string path, int? expectedMagic, string? what, int? count)
    {
        DataFile.CheckExists(path, "IDX file");
        using var file = File.OpenRead(path);
        var first = new byte[2];
        int got = file.Read(first);
        file.Position = 0;
        bool gzip = got == 2 && first[0] == 0x1f && first[1] == 0x8b;
        using Stream stream = gzip
            ? new GZipStream(file, CompressionMode.Decompress)
            : new BufferedStream(file);
        var head = new byte[4];
        ReadExactly(stream, head, path);
        int magic = BinaryPrimitives.ReadInt32BigEndian(head);
        if (head[0] != 0 || head[1] != 0)
            throw new InvalidDataException($"'{path}' is not an IDX file: its magic number is {magic} (0x{magic:X8}).");
        if (expectedMagic is not null && magic != expectedMagic)
            throw new InvalidDataException(
                $"'{path}' is not an IDX {what} file: its magic number is {magic}; expected {expectedMagic}.");
        var (type, size) = head[2] switch
        {
            0x08 => (ScalarType.Byte, 1),
            0x09 => (ScalarType.Int8, 1),
            0x0B => (ScalarType.Int16, 2),
            0x0C => (ScalarType.Int32, 4),
            0x0D => (ScalarType.Float32, 4),
            0x0E => (ScalarType.Float64, 8),
            _ => throw new InvalidDataException($"'{path}' has an unknown IDX element type 0x{head[2]:X2}."),
        };
        int rank = head[3];
        var dimBytes = new byte[4 * rank];
        ReadExactly(stream, dimBytes, path);
        long[] shape = Enumerable.Range(0, rank).Select(i => (long)BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * i))).ToArray();
        DataFile.ByteCount(shape, size, $"'{path}'");   // a negative or overflowing declared shape fails even when count trims it
        if (count is not null && rank > 0)
        {
            if (count > shape[0])
                throw new ArgumentOutOfRangeException(nameof(count), count, $"'{path}' holds only {shape[0]} items.");
            shape[0] = count.Value;
        }
        long needed = DataFile.ByteCount(shape, size, $"'{path}'");
        long? available = gzip ? null : file.Length - 4 - 4 * rank;
        var data = DataFile.ReadExactly(stream, needed, available, $"'{path}'", $"the IDX shape {Shapes.Format(shape)}");
        if (size > 1)
            for (int i = 0; i < data.Length; i += size) Array.Reverse(data, i, size);
        var t = empty(shape, dtype: type);
        if (data.Length > 0) t.bytes = data;
        return t;
    }

    private static void ReadExactly(Stream stream, byte[] buffer, string path)
    {
        try { stream.ReadExactly(buffer); }
        catch (EndOfStreamException e) { throw new InvalidDataException($"'{path}' ends early: it is truncated.", e); }
    }
}
