using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>How an ONNX model is loaded and what its output becomes: one bundle for every ONNX entry that takes a path.</summary>
public sealed class OnnxModelOptions
{
    /// <summary>The output to explain; null takes the model's first output.</summary>
    public string? OutputName { get; set; }

    /// <summary>ONNX Runtime session options (threads, graph optimisation, execution providers); null for the defaults. The caller keeps ownership.</summary>
    public SessionOptions? SessionOptions { get; set; }

    /// <summary>
    /// Applied to every output batch [N, K] before it is explained, e.g. <see cref="OnnxOutputTransforms.Exp"/> to
    /// explain the probabilities of a model that ends in LogSoftmax, as a Python user applies it in the function
    /// handed to shap. It must return a tensor with N rows; null explains the raw output.
    /// </summary>
    public Func<Tensor, Tensor>? OutputTransform { get; set; }
}

/// <summary>Ready-made <see cref="OnnxModelOptions.OutputTransform"/>s.</summary>
public static class OnnxOutputTransforms
{
    /// <summary>exp, element by element: probabilities from a log-softmax output.</summary>
    public static Func<Tensor, Tensor> Exp { get; } = y => y.exp();

    /// <summary>Softmax over the outputs (dimension 1): probabilities from logits.</summary>
    public static Func<Tensor, Tensor> Softmax { get; } = y => y.softmax(1);

    /// <summary>The logistic sigmoid, element by element: probabilities from independent logits.</summary>
    public static Func<Tensor, Tensor> Sigmoid { get; } = y => y.sigmoid();
}

/// <summary>
/// An ONNX model run with ONNX Runtime on the CPU, as a model the explainers accept: float32 tensors in, the
/// chosen output as a CPU tensor [N, K] out. Names, shapes and element types are read from the model; a dynamic
/// dimension (the batch) is −1. Thread-safe for concurrent runs (ONNX Runtime sessions are).
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly Func<Tensor, Tensor>? _outputTransform;
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
        : this(path, new OnnxModelOptions { OutputName = outputName, SessionOptions = sessionOptions })
    {
    }

    /// <summary>Loads an ONNX model with the output, session options and output transform of <paramref name="options"/>.</summary>
    /// <param name="path">Path of the .onnx file.</param>
    /// <param name="options">The output to explain, the session options and the output transform.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The path is a directory, or the model has no output <see cref="OnnxModelOptions.OutputName"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a loadable ONNX model.</exception>
    /// <exception cref="NotSupportedException">An input or the output is not a float32 tensor.</exception>
    public OnnxModel(string path, OnnxModelOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(options);
        string? outputName = options.OutputName;
        var sessionOptions = options.SessionOptions;
        _outputTransform = options.OutputTransform;
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

    /// <summary>
    /// Runs the model on CPU tensors (converted to float32 when needed) and returns the output as [N, …] float32,
    /// after the <see cref="OnnxModelOptions.OutputTransform"/> when one was given.
    /// </summary>
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
            var output = tensor(result.GetTensorDataAsSpan<float>().ToArray(), shape, float32);
            return _outputTransform is null ? output : Transform(output, inputs[0].shape[0]);
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

    private Tensor Transform(Tensor output, long rows)
    {
        using var scope = NewDisposeScope();
        var y = _outputTransform!(output);
        if (y is null || y.IsInvalid || y.dim() < 1 || y.shape[0] != rows)
            throw new InvalidOperationException(
                $"The output transform of '{Path_}' must return a tensor with {rows} row(s), one per input row; it returned " +
                $"{(y is null ? "null" : y.IsInvalid ? "a disposed tensor" : Shapes.Format(y.shape))} for output {Shapes.Format(output.shape)}.");
        return y.MoveToOuterDisposeScope();
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
