using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Reads and writes <c>.safetensors</c> files (the format PyTorch's <c>safetensors.torch.save_file</c> writes), so
/// weights trained in Python load into a TorchSharp module whose parameter names follow PyTorch's.
/// </summary>
public static class Safetensors
{
    private static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new(StringComparer.Ordinal)
    {
        ["F64"] = (ScalarType.Float64, 8), ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Reads every tensor of a file, by name, on the CPU. The caller owns the tensors.</summary>
    /// <param name="path">The .safetensors file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The path is a directory.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a valid safetensors file: the header is cut off or not JSON, a dtype is unknown, a dimension is
    /// negative or too large, or the tensors' <c>data_offsets</c> do not tile the data section exactly (negative,
    /// overlapping, out of range, or not the size their dtype and shape need). The message names the file, the
    /// tensor, what was expected and what was found; nothing is allocated for the tensors before the whole header checks out.
    /// </exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        DataFile.CheckExists(path, "safetensors file");
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
            throw new InvalidDataException($"'{path}' is not a safetensors file: {bytes.Length} bytes, fewer than the 8-byte header length.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException(
                $"'{path}' is not a safetensors file: its first 8 bytes give a header length of {headerLength} bytes, but only {bytes.Length - 8} follow.");
        int dataStart = 8 + (int)headerLength;
        var entries = ReadHeader(bytes.AsMemory(8, (int)headerLength), path, bytes.Length - dataStart);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in entries)
                result[e.Name] = FromBytes(bytes.AsSpan(dataStart + (int)e.Begin, (int)(e.End - e.Begin)), e.Type, e.Shape);
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    private readonly record struct Entry(string Name, ScalarType Type, long[] Shape, long Begin, long End);

    /// <summary>Parses and checks the whole header, as the format's reference reader does, before any tensor exists.</summary>
    private static List<Entry> ReadHeader(ReadOnlyMemory<byte> json, string path, long dataLength)
    {
        var entries = new List<Entry>();
        try
        {
            using var header = JsonDocument.Parse(json);
            if (header.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{path}' has an invalid safetensors header: a JSON {header.RootElement.ValueKind}, not an object.");
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in header.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                string where = $"'{path}': tensor '{entry.Name}'";
                if (!names.Add(entry.Name))
                    throw new InvalidDataException($"{where} appears twice in the header.");
                string dtypeName = entry.Value.GetProperty("dtype").GetString() ?? "";
                if (!DTypes.TryGetValue(dtypeName, out var dtype))
                    throw new InvalidDataException($"{where} has unsupported dtype '{dtypeName}'; supported: {string.Join(", ", DTypes.Keys)}.");
                long[] shape = Integers(entry.Value, "shape", where);
                long[] offsets = Integers(entry.Value, "data_offsets", where);
                if (offsets.Length != 2)
                    throw new InvalidDataException($"{where} has {offsets.Length} data_offsets; expected 2, [begin, end].");
                long needed = DataFile.ByteCount(shape, dtype.Size, where);
                var (begin, end) = (offsets[0], offsets[1]);
                if (begin < 0 || end < begin || end > dataLength)
                    throw new InvalidDataException(
                        $"{where} has data_offsets [{begin}, {end}]; expected 0 ≤ begin ≤ end ≤ {dataLength}, the size of the data section.");
                if (end - begin != needed)
                    throw new InvalidDataException(
                        $"{where} has data_offsets [{begin}, {end}], {end - begin} bytes; its shape {Shapes.Format(shape)} of {dtypeName} needs {needed}.");
                entries.Add(new Entry(entry.Name, dtype.Type, shape, begin, end));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{path}' has an invalid safetensors header: {e.Message}", e);
        }
        // The tensors must tile the data section: no overlap (two tensors reading the same bytes), no gap, nothing after.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long next = 0;
        string? previous = null;
        foreach (var e in entries)
        {
            if (e.Begin < next)
                throw new InvalidDataException(
                    $"'{path}': tensor '{e.Name}' (data_offsets [{e.Begin}, {e.End}]) overlaps tensor '{previous}', which ends at {next}.");
            if (e.Begin > next)
                throw new InvalidDataException(
                    $"'{path}': bytes [{next}, {e.Begin}) of the data section belong to no tensor; tensor '{e.Name}' was expected to begin at {next}.");
            (next, previous) = (e.End, e.Name);
        }
        if (next != dataLength)
            throw new InvalidDataException(
                $"'{path}': the tensors cover {next} bytes of the data section, but it has {dataLength}; expected them to cover it exactly.");
        return entries;
    }

    private static long[] Integers(JsonElement tensor, string property, string where)
    {
        var value = tensor.GetProperty(property);
        if (value.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where} has '{property}' {value.GetRawText()}; expected an array of integers.");
        var result = new long[value.GetArrayLength()];
        int i = 0;
        foreach (var item in value.EnumerateArray())
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out result[i++]))
                throw new InvalidDataException($"{where} has '{property}' {value.GetRawText()}; {item.GetRawText()} is not a 64-bit integer.");
        return result;
    }

    // Raw little-endian bytes in and out, as NpyArray does: TorchSharp's Tensor.bytes copies any dtype
    // (x64 and arm64 are little-endian, like the format).
    private static Tensor FromBytes(ReadOnlySpan<byte> raw, ScalarType type, long[] shape)
    {
        var t = empty(shape, dtype: type);
        if (raw.Length > 0) t.bytes = raw.ToArray();
        return t;
    }

    private static byte[] ToBytes(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return c.numel() == 0 ? Array.Empty<byte>() : c.bytes.ToArray();
    }

    /// <summary>
    /// Copies the weights of a file into a module's parameters and buffers, matched by PyTorch-style name
    /// (<c>state_dict()</c> keys), converting dtype and moving to each parameter's device.
    /// <see cref="Weights.LoadWeights"/> does the same for this format and PyTorch checkpoints alike.
    /// </summary>
    /// <param name="module">The module to fill.</param>
    /// <param name="path">The .safetensors file.</param>
    /// <param name="strict">When true, a name in the file that the module lacks is also an error.</param>
    /// <exception cref="InvalidDataException">Weights are missing, unexpected, or shaped differently; the message lists them.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The path is a directory.</exception>
    public static void LoadInto(nn.Module module, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        var weights = Load(path);
        try
        {
            Weights.CopyInto(module, weights, path, strict);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>Writes tensors to a .safetensors file (names sorted, data in that order).</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="tensors">Tensors by name.</param>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, t) in tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            string dtypeName = DTypes.FirstOrDefault(p => p.Value.Type == t.dtype).Key
                ?? throw new ArgumentException($"Tensor '{name}' has dtype {t.dtype}, which safetensors cannot store here.", nameof(tensors));
            byte[] blob = ToBytes(t);
            header[name] = new { dtype = dtypeName, shape = t.shape, data_offsets = new[] { offset, offset + blob.Length } };
            blobs.Add(blob);
            offset += blob.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        using var stream = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var blob in blobs) stream.Write(blob);
    }
}
