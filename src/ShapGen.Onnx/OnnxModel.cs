using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// An ONNX model run with ONNX Runtime on the CPU, as a model the explainers accept: float32 tensors in, the
/// chosen output as a CPU tensor [N, K] out. Names, shapes and element types are read from the model; a dynamic
/// dimension (the batch) is −1. Thread-safe for concurrent runs (ONNX Runtime sessions are).
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private bool _disposed;

    /// <summary>Loads an ONNX model.</summary>
    /// <param name="path">Path of the .onnx file.</param>
    /// <param name="outputName">The output to explain; null takes the model's first output.</param>
    /// <param name="sessionOptions">ONNX Runtime session options, or null for the defaults.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The path is a directory, or the model has no output <paramref name="outputName"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a loadable ONNX model.</exception>
    /// <exception cref="NotSupportedException">An input or the output is not a float32 tensor.</exception>
    public OnnxModel(string path, string? outputName = null, SessionOptions? sessionOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new ArgumentException($"The ONNX model path '{full}' is a directory; pass the path of the .onnx file itself.", nameof(path));
        if (!File.Exists(full))
            throw new FileNotFoundException($"The ONNX model file '{full}' does not exist.", full);
        try
        {
            _session = sessionOptions is null ? new InferenceSession(full) : new InferenceSession(full, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"'{full}' is not a valid ONNX model: ONNX Runtime says \"{e.Message}\".", e);
        }
        Path_ = full;
        var inputs = _session.InputMetadata;
        InputNames = inputs.Keys.ToArray();
        InputShapes = InputNames.Select(n => inputs[n].Dimensions.Select(d => (long)d).ToArray()).ToArray();
        foreach (var name in InputNames)
        {
            var meta = inputs[name];
            if (!meta.IsTensor || meta.ElementType != typeof(float))
            {
                _session.Dispose();
                throw new NotSupportedException(
                    $"ONNX input '{name}' of '{full}' is {(meta.IsTensor ? meta.ElementType.Name : "not a tensor")}; only float32 tensor inputs are supported.");
            }
        }
        var outputs = _session.OutputMetadata;
        string chosen = outputName ?? outputs.Keys.First();
        if (!outputs.TryGetValue(chosen, out var outMeta))
        {
            _session.Dispose();
            throw new ArgumentException(
                $"The ONNX model has no output '{chosen}'; its outputs are: {string.Join(", ", outputs.Keys.Select(k => $"'{k}'"))}.",
                nameof(outputName));
        }
        if (!outMeta.IsTensor || outMeta.ElementType != typeof(float))
        {
            _session.Dispose();
            throw new NotSupportedException($"ONNX output '{chosen}' is not a float32 tensor; it is {outMeta.ElementType.Name}.");
        }
        OutputName = chosen;
        OutputShape = outMeta.Dimensions.Select(d => (long)d).ToArray();
    }

    private string Path_ { get; }

    /// <summary>The model's input names, in the model's order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Each input's shape as the model declares it; −1 marks a dynamic dimension.</summary>
    public IReadOnlyList<long[]> InputShapes { get; }

    /// <summary>The output that <see cref="Run"/> returns.</summary>
    public string OutputName { get; }

    /// <summary>That output's declared shape (−1 = dynamic).</summary>
    public long[] OutputShape { get; }

    /// <summary>Index of the input called <paramref name="name"/>, or an error listing the model's inputs.</summary>
    /// <param name="name">An input name.</param>
    public int InputIndex(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (int i = 0; i < InputNames.Count; i++)
            if (InputNames[i] == name) return i;
        throw new ArgumentException(
            $"The ONNX model '{Path_}' has no input '{name}'; its inputs are: {string.Join(", ", InputNames.Select(n => $"'{n}' {Describe(InputShapes[InputNames.ToList().IndexOf(n)])}"))}.",
            nameof(name));
    }

    /// <summary>Runs the model on CPU tensors (converted to float32 when needed) and returns the output as [N, …] float32.</summary>
    /// <param name="inputs">One batched tensor per model input, in <see cref="InputNames"/> order.</param>
    public Tensor Run(params Tensor[] inputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length != InputNames.Count)
            throw new ArgumentException(
                $"The ONNX model takes {InputNames.Count} input(s) ({string.Join(", ", InputNames)}); {inputs.Length} were given.", nameof(inputs));
        var values = new OrtValue[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                var t = inputs[i];
                CheckShape(i, t.shape);
                float[] data;
                using (var scope = NewDisposeScope())
                    data = t.detach().to_type(float32).cpu().contiguous().data<float>().ToArray();
                values[i] = OrtValue.CreateTensorValueFromMemory(data, t.shape);
            }
            using var results = _session.Run(_runOptions, InputNames.ToArray(), values, new[] { OutputName });
            var result = results[0];
            var shape = result.GetTensorTypeAndShape().Shape;
            var output = result.GetTensorDataAsSpan<float>().ToArray();
            return tensor(output, shape, float32);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException($"ONNX Runtime failed to run '{Path_}': {e.Message}", e);
        }
        finally
        {
            foreach (var v in values) v?.Dispose();
        }
    }

    /// <summary>This model as an <see cref="ExplainableModel"/> (inputs in <see cref="InputNames"/> order).</summary>
    public ExplainableModel ToExplainableModel() => new(Run, InputNames.Count);

    /// <summary>The per-sample shape of input <paramref name="index"/> (declared shape without the batch dimension); dynamic dimensions are −1.</summary>
    /// <param name="index">The input's position.</param>
    public long[] SampleShape(int index) => InputShapes[index].Skip(1).ToArray();

    /// <summary>Frees the ONNX Runtime session.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _session.Dispose();
        _runOptions.Dispose();
    }

    private void CheckShape(int index, long[] actual)
    {
        var expected = InputShapes[index];
        bool ok = expected.Length == actual.Length;
        for (int d = 0; ok && d < expected.Length; d++)
            ok = expected[d] < 0 || expected[d] == actual[d];
        if (!ok)
            throw new ArgumentException(
                $"ONNX input '{InputNames[index]}' expects shape {Describe(expected)}; it was given {Shapes.Format(actual)}.", "inputs");
    }

    internal static string Describe(long[] shape) =>
        "[" + string.Join(", ", shape.Select((d, i) => d < 0 ? (i == 0 ? "N" : "?") : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
}
