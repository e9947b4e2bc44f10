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
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The safetensors file '{path}' does not exist.", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
            throw new InvalidDataException($"'{path}' is not a safetensors file: {bytes.Length} bytes, fewer than the 8-byte header length.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"'{path}' is not a safetensors file: header length {headerLength} exceeds the file's {bytes.Length} bytes.");
        int dataStart = 8 + (int)headerLength;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
            foreach (var entry in header.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                string dtypeName = entry.Value.GetProperty("dtype").GetString() ?? "";
                if (!DTypes.TryGetValue(dtypeName, out var dtype))
                    throw new InvalidDataException($"'{path}': tensor '{entry.Name}' has unsupported dtype '{dtypeName}'; supported: {string.Join(", ", DTypes.Keys)}.");
                long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long[] offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long count = shape.Aggregate(1L, (a, b) => a * b);
                if (offsets.Length != 2 || offsets[1] - offsets[0] != count * dtype.Size || dataStart + offsets[1] > bytes.Length)
                    throw new InvalidDataException($"'{path}': tensor '{entry.Name}' has data_offsets [{string.Join(", ", offsets)}] that do not fit shape {Shapes.Format(shape)} of {dtypeName} in the file.");
                var raw = bytes.AsSpan(dataStart + (int)offsets[0], (int)(count * dtype.Size));
                result[entry.Name] = FromBytes(raw, dtype.Type, shape);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new InvalidDataException($"'{path}' has an invalid safetensors header: {e.Message}", e);
        }
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
    /// </summary>
    /// <param name="module">The module to fill.</param>
    /// <param name="path">The .safetensors file.</param>
    /// <param name="strict">When true, a name in the file that the module lacks is also an error.</param>
    /// <exception cref="InvalidDataException">Weights are missing, unexpected, or shaped differently; the message lists them.</exception>
    public static void LoadInto(nn.Module module, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        var weights = Load(path);
        try
        {
            var state = module.state_dict();
            var problems = new List<string>();
            var missing = state.Keys.Where(k => !weights.ContainsKey(k)).ToList();
            if (missing.Count > 0) problems.Add($"missing {missing.Count} weight(s): {string.Join(", ", missing.Take(20))}");
            if (strict)
            {
                var unexpected = weights.Keys.Where(k => !state.ContainsKey(k)).ToList();
                if (unexpected.Count > 0) problems.Add($"{unexpected.Count} unexpected weight(s): {string.Join(", ", unexpected.Take(20))}");
            }
            foreach (var (name, target) in state)
                if (weights.TryGetValue(name, out var source) && !source.shape.SequenceEqual(target.shape))
                    problems.Add($"'{name}' has shape {Shapes.Format(source.shape)} in the file; the module expects {Shapes.Format(target.shape)}");
            if (problems.Count > 0)
                throw new InvalidDataException($"Cannot load '{path}' into {module.GetName()}: {string.Join("; ", problems)}.");
            using (no_grad())
                foreach (var (name, target) in state)
                    target.copy_(weights[name].to(target.dtype, target.device));
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
