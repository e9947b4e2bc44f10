using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Weights as people have them: PyTorch state dicts (<c>.pth</c>/<c>.pt</c>/<c>.bin</c>, zip or legacy
/// <c>torch.save</c> format) and <c>.safetensors</c> files, recognised by their content, not their extension.
/// </summary>
/// <remarks>
/// PyTorch checkpoints are pickles; ShapGen reads them with its own restricted unpickler, which rebuilds only
/// dicts, tensors and storages and refuses every other global, so a hostile file cannot run code. Every storage's
/// byte size is checked against what its tensors need before anything is allocated.
/// </remarks>
public static class Weights
{
    /// <summary>Reads every tensor of a weights file, by name, on the CPU. The caller owns the tensors.</summary>
    /// <param name="path">A PyTorch checkpoint or a .safetensors file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The path is a directory.</exception>
    /// <exception cref="InvalidDataException">The file is neither format, or is truncated, inconsistent or refused; the message names the file and the part.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        DataFile.CheckExists(path, "weights file");
        var head = new byte[512];
        int read;
        using (var file = File.OpenRead(path))
            read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var start = head.AsSpan(0, read);
        if (PyTorchCheckpoint.Recognises(start))
            return PyTorchCheckpoint.Load(path);
        if (PyTorchCheckpoint.IsTar(start))
            throw new InvalidDataException(
                $"'{path}' is a PyTorch checkpoint in the tar format of PyTorch before 0.4, which is not read; load it in Python and save it again with torch.save.");
        if (read >= 9 && BinaryPrimitives.ReadUInt64LittleEndian(start) > 0 && start[8] == (byte)'{')
            return Safetensors.Load(path);
        throw new InvalidDataException(
            $"'{path}' is neither a PyTorch checkpoint (a zip, or the legacy torch.save pickle) nor a safetensors file " +
            $"(it starts with bytes {Convert.ToHexString(start[..Math.Min(8, read)])}). For TorchSharp's own format use module.load(path).");
    }

    /// <summary>
    /// Copies a weights file into a module's parameters and buffers, matched by PyTorch-style name
    /// (<c>state_dict()</c> keys: <c>features.0.weight</c>, …), converting dtype and moving to each one's device.
    /// </summary>
    /// <param name="module">The module to fill.</param>
    /// <param name="path">A PyTorch checkpoint (<c>torch.save(model.state_dict(), path)</c>, e.g. torchvision's
    /// <c>vgg16-397923af.pth</c>) or a .safetensors file; the format is read from the content.</param>
    /// <param name="strict">When true (as PyTorch's <c>load_state_dict</c>), a name in the file that the module lacks is also an error.</param>
    /// <exception cref="InvalidDataException">Weights are missing, unexpected or shaped differently (the message lists
    /// them, naming the file), or the file is unreadable (see <see cref="Load"/>).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The path is a directory.</exception>
    public static void LoadWeights(this nn.Module module, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        var weights = Load(path);
        try
        {
            CopyInto(module, weights, path, strict);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>Checks names and shapes like <c>load_state_dict</c>, then copies; nothing is copied when a check fails.</summary>
    internal static void CopyInto(nn.Module module, IReadOnlyDictionary<string, Tensor> weights, string path, bool strict)
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
}
