using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Reads and writes NumPy <c>.npz</c> archives: a zip of <c>.npy</c> files, one per named array, as
/// <c>numpy.savez</c> (stored) and <c>numpy.savez_compressed</c> (deflated) write them. Both kinds are read.
/// </summary>
public static class Npz
{
    private static readonly DateTimeOffset ZipEpoch = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Writes tensors (any device; not disposed) to an .npz file, in the given order.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="arrays">Array names (without <c>.npy</c>) and tensors.</param>
    /// <param name="compress">True for <c>savez_compressed</c>'s deflate, false for <c>savez</c>'s stored entries.</param>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> arrays, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        SaveArrays(path, arrays.Select(kv => new KeyValuePair<string, NpyArray>(kv.Key, NpyArray.FromTensor(kv.Value))), compress);
    }

    /// <summary>Writes raw arrays to an .npz file, in the given order.</summary>
    public static void SaveArrays(string path, IEnumerable<KeyValuePair<string, NpyArray>> arrays, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(arrays);
        using var file = File.Create(path);
        Write(file, arrays, compress);
    }

    /// <summary>Writes raw arrays as an .npz archive to a stream.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, NpyArray>> arrays, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(arrays);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, array) in arrays)
        {
            if (string.IsNullOrEmpty(name))
                throw new ArgumentException("Every array needs a non-empty name.", nameof(arrays));
            if (!seen.Add(name))
                throw new ArgumentException($"The array name '{name}' appears twice.", nameof(arrays));
            var entry = zip.CreateEntry(name + ".npy", compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            entry.LastWriteTime = ZipEpoch;
            using var s = entry.Open();
            Npy.Write(s, array);
        }
    }

    /// <summary>Reads every array of an .npz file (stored or deflated) as raw arrays, keyed by name without <c>.npy</c>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The path is a directory.</exception>
    /// <exception cref="InvalidDataException">The file is not a zip of valid .npy files; the message names the file, the member and the problem.</exception>
    public static IReadOnlyDictionary<string, NpyArray> LoadArrays(string path)
    {
        DataFile.CheckExists(path, ".npz file");
        using var file = File.OpenRead(path);
        return Read(file, $"'{path}'");
    }

    /// <summary>Reads every array of an .npz archive from a stream.</summary>
    /// <exception cref="InvalidDataException">The stream is not a zip of valid .npy files.</exception>
    public static IReadOnlyDictionary<string, NpyArray> Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, "the .npz stream");
    }

    private static Dictionary<string, NpyArray> Read(Stream stream, string source)
    {
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        using var zip = OpenZip(stream, source);
        foreach (var entry in zip.Entries)
        {
            if (entry.FullName.EndsWith('/')) continue;
            result[ArrayName(entry)] = ReadMember(entry, source);
        }
        return result;
    }

    private static string ArrayName(ZipArchiveEntry entry) =>
        entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;

    private static ZipArchive OpenZip(Stream stream, string source)
    {
        try { return new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source} is not an .npz file (a zip archive of .npy files): {e.Message}", e);
        }
    }

    private static NpyArray ReadMember(ZipArchiveEntry entry, string source)
    {
        string member = $"{source} member '{entry.FullName}'";
        try
        {
            using var s = entry.Open();
            return Npy.Read(s, member, entry.Length);
        }
        // The zip layer's own errors (a corrupt local header or deflate stream) do not say which file: add it. The
        // .npy reader's errors already start with the member.
        catch (InvalidDataException e) when (!e.Message.StartsWith(member, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{member} cannot be read: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{member} cannot be read: the archive ends early ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Reads every numeric array of an .npz file into new CPU tensors; the caller owns (and disposes) them. Arrays
    /// with no tensor dtype (strings such as an exported explanation's <c>labels</c>, unsigned 16–64-bit integers)
    /// are left out: read those with <see cref="LoadArrays"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a zip of valid .npy files; the message names the file, the member and the problem.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var arrays = LoadArrays(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, array) in arrays)
                if (NpyArray.HasTensorType(array.Descr)) result[name] = array.ToTensor();
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Reads one named array of an .npz file into a new CPU tensor; the caller owns it.</summary>
    /// <exception cref="KeyNotFoundException">The archive has no array of that name (the message lists the names it has).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a zip archive, or the array is not a valid .npy member.</exception>
    public static Tensor Load(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        DataFile.CheckExists(path, ".npz file");
        using var file = File.OpenRead(path);
        string source = $"'{path}'";
        using var zip = OpenZip(file, source);
        var entry = zip.GetEntry(name + ".npy") ?? zip.GetEntry(name);
        if (entry is null)
            throw new KeyNotFoundException(
                $"'{path}' has no array '{name}'; it has: {string.Join(", ", zip.Entries.Select(ArrayName))}.");
        return ReadMember(entry, source).ToTensor();
    }
}
