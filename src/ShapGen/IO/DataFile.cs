using System;
using System.IO;

namespace ShapGen;

/// <summary>
/// The checks every file reader shares: the path is a file, a declared shape is sane, and a declared size is
/// compared with the bytes that really exist before anything that large is allocated.
/// </summary>
internal static class DataFile
{
    /// <summary>Memory grows by at most this much ahead of the bytes actually read from a stream of unknown length.</summary>
    private const int Chunk = 1 << 24;

    /// <summary>Throws unless <paramref name="path"/> names an existing file (a directory gets its own message).</summary>
    /// <param name="path">The path given by the caller.</param>
    /// <param name="kind">What the file should be, e.g. "safetensors file".</param>
    public static void CheckExists(string path, string kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Directory.Exists(path))
            throw new ArgumentException($"The {kind} path '{path}' is a directory; pass the path of the file itself.", nameof(path));
        if (!File.Exists(path))
            throw new FileNotFoundException($"The {kind} '{path}' does not exist.", path);
    }

    /// <summary>
    /// The number of bytes a shape of <paramref name="itemSize"/>-byte elements needs, or an
    /// <see cref="InvalidDataException"/> naming <paramref name="source"/> when a dimension is negative or the
    /// size overflows.
    /// </summary>
    public static long ByteCount(ReadOnlySpan<long> shape, int itemSize, string source)
    {
        foreach (long d in shape)
            if (d < 0)
                throw new InvalidDataException($"{source}: the shape {Shapes.Format(shape.ToArray())} has a negative dimension {d}.");
        if (shape.Contains(0)) return 0;
        long bytes = itemSize;
        foreach (long d in shape)
        {
            if (bytes > long.MaxValue / d)
                throw new InvalidDataException(
                    $"{source}: the shape {Shapes.Format(shape.ToArray())} of {itemSize}-byte elements needs more than {long.MaxValue} bytes.");
            bytes *= d;
        }
        return bytes;
    }

    /// <summary>
    /// Reads exactly <paramref name="needed"/> bytes. Refuses, before allocating, sizes beyond a .NET array and sizes
    /// beyond <paramref name="available"/> (when the remaining length is known); otherwise memory grows only as
    /// bytes arrive, so a false declared size cannot make it allocate what the stream does not hold.
    /// </summary>
    /// <param name="stream">The stream, positioned at the data.</param>
    /// <param name="needed">The bytes the header declares.</param>
    /// <param name="available">The bytes left in the stream, when known.</param>
    /// <param name="source">The file (and member) the message names.</param>
    /// <param name="what">What the bytes are, e.g. "shape (3, 4) of '&lt;f4'".</param>
    public static byte[] ReadExactly(Stream stream, long needed, long? available, string source, string what)
    {
        if (available is { } left && needed > left)
            throw new InvalidDataException($"{source}: {what} needs {needed} bytes, but only {Math.Max(0, left)} remain: it is truncated.");
        if (needed > Array.MaxLength)
            throw new InvalidDataException($"{source}: {what} needs {needed} bytes, more than one array can hold ({Array.MaxLength}).");
        var data = new byte[Math.Min(needed, available is null ? Chunk : needed)];
        int read = 0;
        while (true)
        {
            int n = stream.ReadAtLeast(data.AsSpan(read), data.Length - read, throwOnEndOfStream: false);
            read += n;
            if (read < data.Length)
                throw new InvalidDataException($"{source}: {what} needs {needed} bytes, but only {read} remain: it is truncated.");
            if (read == needed) return data;
            Array.Resize(ref data, (int)Math.Min(needed, (long)data.Length * 2));
        }
    }
}
