using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Orleans;
using static TorchSharp.torch;

namespace ShapGen.ScaleOut;

/// <summary>
/// The rows of a data set to explain, read a shard at a time. One tensor per model input, rows on dimension 0.
/// Implement it for a data set of your own and register it in the workers (and the coordinator) under a name.
/// </summary>
public interface IShardSource : IDisposable
{
    /// <summary>The number of rows (samples) in the data set.</summary>
    long RowCount { get; }

    /// <summary>Rows <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1, one new CPU tensor per model input; the caller owns them.</summary>
    Tensor[] ReadRows(long start, long count);
}

/// <summary>The kinds of data set a job can name.</summary>
public enum DataSourceKind
{
    /// <summary>An IDX image file (MNIST style, gzip or not): float32 [N, 1, rows, cols] scaled to [0, 1].</summary>
    Idx,

    /// <summary>An .npz file whose arrays are the model inputs, in the archive's order (as <c>numpy.savez(f, a, b)</c> writes them).</summary>
    Npz,

    /// <summary>A folder of .npy files, one sample each, in file-name order; one model input.</summary>
    NpyFolder,

    /// <summary>An <see cref="IShardSource"/> registered under a name in the process that reads it.</summary>
    Registered,
}

/// <summary>
/// Names a data set in a way every process can open on its own: a kind and a file path (or a registered name).
/// Only this travels over the network, never tensors.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DataSource
{
    /// <summary>What the location is.</summary>
    [Id(0)] public required DataSourceKind Kind { get; init; }

    /// <summary>The file or folder path (readable by every worker), or the registered name.</summary>
    [Id(1)] public required string Location { get; init; }

    /// <summary>An IDX image file.</summary>
    public static DataSource Idx(string path) => new() { Kind = DataSourceKind.Idx, Location = path };

    /// <summary>An .npz file, one array per model input.</summary>
    public static DataSource Npz(string path) => new() { Kind = DataSourceKind.Npz, Location = path };

    /// <summary>A folder of .npy files, one sample each.</summary>
    public static DataSource NpyFolder(string path) => new() { Kind = DataSourceKind.NpyFolder, Location = path };

    /// <summary>A user <see cref="IShardSource"/> registered under <paramref name="name"/>.</summary>
    public static DataSource Registered(string name) => new() { Kind = DataSourceKind.Registered, Location = name };
}

/// <summary>Opens the data sets a <see cref="DataSource"/> names.</summary>
public static class ShardSources
{
    /// <summary>Opens <paramref name="source"/>; a registered name is looked up in <paramref name="registered"/>.</summary>
    /// <exception cref="ArgumentException">A registered name that is not registered, or an unknown kind.</exception>
    public static IShardSource Open(DataSource source, IReadOnlyDictionary<string, Func<IShardSource>>? registered = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.Kind switch
        {
            DataSourceKind.Idx => new TensorSource(LoadIdx(source.Location)),
            DataSourceKind.Npz => new TensorSource(LoadNpz(source.Location)),
            DataSourceKind.NpyFolder => new TensorSource(LoadNpyFolder(source.Location)),
            DataSourceKind.Registered => registered is not null && registered.TryGetValue(source.Location, out var open)
                ? open()
                : throw new ArgumentException(
                    $"No data source is registered under '{source.Location}' here; registered: [{string.Join(", ", registered?.Keys ?? Array.Empty<string>())}].",
                    nameof(source)),
            _ => throw new ArgumentException($"Unknown data source kind {source.Kind}.", nameof(source)),
        };
    }

    private static Tensor[] LoadIdx(string path)
    {
        using var bytes = ShapGen.Idx.ReadImages(path);
        return new[] { bytes.to(float32).div_(255).unsqueeze(1) };
    }

    private static Tensor[] LoadNpz(string path)
    {
        var arrays = ShapGen.Npz.LoadArrays(path);
        var inputs = ArchiveOrder(path).Select(name => arrays[name]).Select(a => a.ToTensor()).ToArray();
        if (inputs.Length == 0) throw new InvalidDataException($"'{path}' holds no array: expected one per model input.");
        for (int i = 1; i < inputs.Length; i++)
            if (inputs[i].dim() == 0 || inputs[0].dim() == 0 || inputs[i].shape[0] != inputs[0].shape[0])
                throw new InvalidDataException(
                    $"'{path}': every array is one model input with the samples on dimension 0; array {i} has shape " +
                    $"{Shapes.Format(inputs[i].shape)}, array 0 {Shapes.Format(inputs[0].shape)}.");
        return inputs;
    }

    private static Tensor[] LoadNpyFolder(string path)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"The .npy folder '{path}' does not exist.");
        var files = Directory.EnumerateFiles(path, "*.npy").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new InvalidDataException($"The folder '{path}' holds no .npy file: expected one per sample.");
        using var scope = NewDisposeScope();
        var rows = files.Select(ShapGen.Npy.Load).ToArray();
        for (int i = 1; i < rows.Length; i++)
            if (!rows[i].shape.SequenceEqual(rows[0].shape) || rows[i].dtype != rows[0].dtype)
                throw new InvalidDataException(
                    $"'{files[i]}' is {rows[i].dtype} {Shapes.Format(rows[i].shape)}; every sample must be {rows[0].dtype} " +
                    $"{Shapes.Format(rows[0].shape)} like '{files[0]}'.");
        return new[] { stack(rows).MoveToOuterDisposeScope() };
    }

    /// <summary>The array names of an .npz file in the order they are stored.</summary>
    internal static string[] ArchiveOrder(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return zip.Entries.Where(e => !e.FullName.EndsWith('/'))
            .Select(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal) ? e.FullName[..^4] : e.FullName).ToArray();
    }

    /// <summary>A data set held in memory (the built-in kinds read the whole file once; shards are slices).</summary>
    private sealed class TensorSource : IShardSource
    {
        private readonly Tensor[] _inputs;

        public TensorSource(Tensor[] inputs)
        {
            _inputs = inputs;
            foreach (var t in inputs) t.DetachFromDisposeScope();
        }

        public long RowCount => _inputs[0].shape[0];

        public Tensor[] ReadRows(long start, long count)
        {
            if (start < 0 || count < 0 || start + count > RowCount)
                throw new ArgumentOutOfRangeException(nameof(start), start, $"Rows {start}..{start + count - 1} are outside the data set's {RowCount} rows.");
            return _inputs.Select(t => t.narrow(0, start, count).clone()).ToArray();
        }

        public void Dispose()
        {
            foreach (var t in _inputs) t.Dispose();
        }
    }
}
