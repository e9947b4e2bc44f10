using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Reads PyTorch state dicts (<c>.pth</c>/<c>.pt</c>/<c>.bin</c> files written by <c>torch.save</c>): the zip format of
/// PyTorch ≥ 1.6 (<c>archive/data.pkl</c> + <c>archive/data/N</c>) and the legacy format before it (a sequence of
/// pickles followed by the raw storages, as torchvision's older weights such as <c>vgg16-397923af.pth</c> are), through
/// <see cref="PyTorchPickle"/>: no code runs, and every storage's byte size is checked against what its tensors need.
/// </summary>
internal static class PyTorchCheckpoint
{
    private static readonly byte[] ZipMagic = { 0x50, 0x4b, 0x03, 0x04 };

    // torch/serialization.py: MAGIC_NUMBER and PROTOCOL_VERSION of the legacy format.
    private static readonly System.Numerics.BigInteger LegacyMagic = System.Numerics.BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture);
    private const long LegacyProtocol = 1001;

    /// <summary>True when the first bytes are a zip (PyTorch ≥ 1.6) or a legacy torch.save pickle.</summary>
    public static bool Recognises(ReadOnlySpan<byte> head) =>
        head.StartsWith(ZipMagic) || (head.Length >= 4 && head[0] == 0x80 && head[1] == 0x02 && head[2] == 0x8a && head[3] == 0x0a);

    /// <summary>True when the first bytes are the tar format of PyTorch before 0.4.</summary>
    public static bool IsTar(ReadOnlySpan<byte> head) => head.Length >= 262 && head.Slice(257, 5).SequenceEqual("ustar"u8);

    /// <summary>Reads every tensor of a state dict, by name, on the CPU; the caller owns them.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[4];
        int read = file.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 4 && head.StartsWith(ZipMagic) ? LoadZip(file, path) : LoadLegacy(file, path);
    }

    private static Dictionary<string, Tensor> LoadZip(FileStream file, string path)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' starts like a PyTorch zip checkpoint but is not a readable zip (truncated?): {e.Message}", e);
        }
        using (zip)
        {
            var pickles = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
            if (pickles.Count != 1)
                throw new InvalidDataException(
                    $"'{path}' is a zip but not a PyTorch checkpoint: expected one '<name>/data.pkl', found {pickles.Count} " +
                    $"(entries: {string.Join(", ", zip.Entries.Take(10).Select(e => e.FullName))}).");
            string prefix = pickles[0].FullName[..^"data.pkl".Length];
            if (zip.GetEntry(prefix + "byteorder") is { } order)
            {
                string text = Encoding.ASCII.GetString(Member(order, file.Length, path, 16));
                if (text != "little")
                    throw new InvalidDataException($"'{path}' was saved on a {text}-endian machine; only little-endian checkpoints are read.");
            }
            var storages = new Dictionary<string, PyTorchPickle.StorageRef>(StringComparer.Ordinal);
            object? root;
            using (var pickle = new MemoryStream(Member(pickles[0], file.Length, path, file.Length)))
                root = Read(pickle, $"'{path}' ({pickles[0].FullName})", storages);
            var entries = StateDict(root, path);
            var data = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            try
            {
                foreach (var storage in entries.Select(e => e.Value.Storage).Distinct())
                {
                    var member = zip.GetEntry($"{prefix}data/{storage.Key}")
                        ?? throw new InvalidDataException($"'{path}' has no member '{prefix}data/{storage.Key}' for storage '{storage.Key}': the checkpoint is incomplete.");
                    long needed = storage.Count * storage.ElementSize;
                    if (member.Length != needed)
                        throw new InvalidDataException(
                            $"'{path}': storage '{storage.Key}' holds {member.Length} bytes, but its {storage.Count} {storage.Type} elements need {needed}.");
                    data[storage.Key] = StorageTensor(Member(member, file.Length, path, needed), storage);
                }
                return Views(entries, data);
            }
            finally
            {
                foreach (var t in data.Values) t.Dispose();
            }
        }
    }

    /// <summary>A member's bytes; refuses members larger than <paramref name="limit"/> (torch.save stores members uncompressed, so none exceeds the file).</summary>
    private static byte[] Member(ZipArchiveEntry entry, long fileLength, string path, long limit)
    {
        if (entry.Length > Math.Min(limit, fileLength))
            throw new InvalidDataException(
                $"'{path}': member '{entry.FullName}' declares {entry.Length} bytes, more than {Math.Min(limit, fileLength)} (the file has {fileLength}).");
        try
        {
            using var stream = entry.Open();
            var bytes = DataFile.ReadExactly(stream, entry.Length, entry.Length, $"'{path}' ({entry.FullName})", "the member");
            if (stream.ReadByte() >= 0)
                throw new InvalidDataException($"'{path}': member '{entry.FullName}' holds more bytes than the {entry.Length} it declares.");
            return bytes;
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith($"'{path}'", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{path}': member '{entry.FullName}' cannot be read (truncated or corrupt): {e.Message}", e);
        }
    }

    private static Dictionary<string, Tensor> LoadLegacy(FileStream file, string path)
    {
        string source = $"'{path}' (legacy torch.save format)";
        var storages = new Dictionary<string, PyTorchPickle.StorageRef>(StringComparer.Ordinal);
        using var stream = new BufferedStream(file, 1 << 16);
        if (Read(stream, source, storages) is not System.Numerics.BigInteger magic || magic != LegacyMagic)
            throw new InvalidDataException($"{source}: the first pickle is not torch.save's magic number; this is not a PyTorch checkpoint.");
        if (Read(stream, source, storages) is not long protocol || protocol != LegacyProtocol)
            throw new InvalidDataException($"{source}: the protocol version is not {LegacyProtocol}.");
        if (Read(stream, source, storages) is not PyTorchPickle.Dict info
            || !info.Items.Any(p => p.Key as string == "little_endian" && p.Value is true))
            throw new InvalidDataException($"{source}: the system information does not say little-endian; only little-endian checkpoints are read.");
        var entries = StateDict(Read(stream, source, storages), path);
        if (Read(stream, source, storages) is not List<object?> keys || keys.Any(k => k is not string))
            throw new InvalidDataException($"{source}: the list of storage keys after the state dict is missing or not a list of strings.");
        var data = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            Span<byte> count = stackalloc byte[8];
            foreach (string key in keys.Cast<string>())
            {
                if (!storages.TryGetValue(key, out var storage))
                    throw new InvalidDataException($"{source}: storage '{key}' is listed but no tensor refers to it.");
                if (data.ContainsKey(key))
                    throw new InvalidDataException($"{source}: storage '{key}' is listed twice.");
                if (stream.ReadAtLeast(count, 8, throwOnEndOfStream: false) != 8)
                    throw new InvalidDataException($"{source}: the file ends before storage '{key}': it is truncated.");
                long elements = BinaryPrimitives.ReadInt64LittleEndian(count);
                if (elements != storage.Count)
                    throw new InvalidDataException($"{source}: storage '{key}' holds {elements} elements but is declared with {storage.Count}.");
                long needed = storage.Count * storage.ElementSize;
                var bytes = DataFile.ReadExactly(stream, needed, file.Length - stream.Position, source, $"storage '{key}' ({storage.Count} {storage.Type})");
                data[key] = StorageTensor(bytes, storage);
            }
            var missing = entries.Select(e => e.Value.Storage.Key).FirstOrDefault(k => !data.ContainsKey(k));
            if (missing is not null)
                throw new InvalidDataException($"{source}: storage '{missing}' is used by a tensor but not stored in the file.");
            return Views(entries, data);
        }
        finally
        {
            foreach (var t in data.Values) t.Dispose();
        }
    }

    private static object? Read(Stream stream, string source, Dictionary<string, PyTorchPickle.StorageRef> storages) =>
        PyTorchPickle.Read(stream, source, storages);

    /// <summary>The tensors of the state dict: the top-level dict, or the dict under "state_dict" / "model" of a training checkpoint.</summary>
    private static List<KeyValuePair<string, PyTorchPickle.TensorRef>> StateDict(object? root, string path)
    {
        if (root is not PyTorchPickle.Dict dict)
            throw new InvalidDataException($"'{path}' holds {PyTorchPickle.Describe(root)}, not a state dict (a dict of tensors).");
        if (dict.Items.All(p => p.Value is not PyTorchPickle.TensorRef))
            foreach (string inner in new[] { "state_dict", "model" })
                if (dict.Items.FirstOrDefault(p => p.Key as string == inner).Value is PyTorchPickle.Dict nested)
                    return StateDict(nested, path);
        var result = new List<KeyValuePair<string, PyTorchPickle.TensorRef>>();
        foreach (var (key, value) in dict.Items)
        {
            string name = key as string ?? throw new InvalidDataException($"'{path}': a state dict key is {PyTorchPickle.Describe(key)}, not a string.");
            var tensor = value as PyTorchPickle.TensorRef
                ?? throw new InvalidDataException($"'{path}': '{name}' is {PyTorchPickle.Describe(value)}, not a tensor; a state dict holds only tensors.");
            result.Add(new(name, tensor));
        }
        return result;
    }

    private static Tensor StorageTensor(byte[] bytes, PyTorchPickle.StorageRef storage)
    {
        var t = empty(new[] { storage.Count }, dtype: storage.Type);
        if (bytes.Length > 0) t.bytes = bytes;
        return t;
    }

    private static Dictionary<string, Tensor> Views(List<KeyValuePair<string, PyTorchPickle.TensorRef>> entries, Dictionary<string, Tensor> data)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, view) in entries)
        {
            var storage = data[view.Storage.Key];
            result[name] = view.Shape.Contains(0)
                ? empty(view.Shape, dtype: view.Storage.Type)
                : storage.as_strided(view.Shape, view.Stride, view.Offset).clone();
        }
        return result;
    }
}
