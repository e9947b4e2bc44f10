using System;
using System.Collections.Generic;
using System.Linq;

namespace ShapGen;

/// <summary>
/// The inputs and explained output of an ONNX model as a typed ONNX class (<see cref="ExplainableOnnxAttribute"/>) was
/// generated from them; dynamic dimensions are −1. The generated explainers check a loaded <see cref="OnnxModel"/>
/// against it, so a model file replaced after the build is an error that says what changed, not a wrong answer.
/// </summary>
public sealed class OnnxSignature
{
    /// <summary>Describes a signature.</summary>
    /// <param name="modelPath">The model file as the attribute names it (for messages).</param>
    /// <param name="inputNames">The graph inputs, in order.</param>
    /// <param name="inputShapes">Each input's full shape (batch first), −1 for a dynamic dimension.</param>
    /// <param name="outputName">The explained output.</param>
    /// <param name="outputShape">Its full shape, −1 for a dynamic dimension.</param>
    /// <exception cref="ArgumentException">The input names and shapes differ in number.</exception>
    public OnnxSignature(string modelPath, IReadOnlyList<string> inputNames, IReadOnlyList<long[]> inputShapes, string outputName, long[] outputShape)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        ArgumentNullException.ThrowIfNull(inputNames);
        ArgumentNullException.ThrowIfNull(inputShapes);
        ArgumentNullException.ThrowIfNull(outputName);
        ArgumentNullException.ThrowIfNull(outputShape);
        if (inputNames.Count != inputShapes.Count)
            throw new ArgumentException($"There are {inputNames.Count} input name(s) but {inputShapes.Count} shape(s); expected one of each.", nameof(inputShapes));
        ModelPath = modelPath;
        InputNames = inputNames;
        InputShapes = inputShapes;
        OutputName = outputName;
        OutputShape = outputShape;
    }

    /// <summary>The model file as the attribute names it.</summary>
    public string ModelPath { get; }

    /// <summary>The graph inputs, in order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Each input's full shape, −1 for a dynamic dimension.</summary>
    public IReadOnlyList<long[]> InputShapes { get; }

    /// <summary>The explained output.</summary>
    public string OutputName { get; }

    /// <summary>The explained output's full shape, −1 for a dynamic dimension.</summary>
    public long[] OutputShape { get; }

    /// <summary>How <paramref name="model"/> differs from this signature; empty when it matches.</summary>
    /// <param name="model">A loaded model.</param>
    public IReadOnlyList<string> Differences(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var differences = new List<string>();
        if (!model.InputNames.SequenceEqual(InputNames))
            differences.Add($"inputs were {Names(InputNames)}, are now {Names(model.InputNames)}");
        else
            for (int i = 0; i < InputNames.Count; i++)
                if (!InputShapes[i].SequenceEqual(model.InputShapes[i]))
                    differences.Add($"input '{InputNames[i]}' was {OnnxModel.Describe(InputShapes[i])}, is now {OnnxModel.Describe(model.InputShapes[i])}");
        if (model.OutputName != OutputName)
            differences.Add($"the explained output was '{OutputName}', is now '{model.OutputName}' (load the model with outputName: \"{OutputName}\")");
        else if (!model.OutputShape.SequenceEqual(OutputShape))
            differences.Add($"output '{OutputName}' was {OnnxModel.Describe(OutputShape)}, is now {OnnxModel.Describe(model.OutputShape)}");
        return differences;
    }

    /// <summary>Returns <paramref name="model"/> when it has this signature.</summary>
    /// <param name="model">A loaded model.</param>
    /// <exception cref="InvalidOperationException">The model differs; the message lists each difference.</exception>
    public OnnxModel Check(OnnxModel model)
    {
        var differences = Differences(model);
        if (differences.Count > 0)
            throw new InvalidOperationException(
                $"The loaded ONNX model does not have the signature of '{ModelPath}' that the typed API was generated from: " +
                $"{string.Join("; ", differences)}. Rebuild the project to regenerate the typed API from the current file, or load the right file.");
        return model;
    }

    /// <summary>Loads a model (explaining this signature's output unless <paramref name="options"/> names another) and checks it.</summary>
    /// <param name="path">Path of the .onnx file.</param>
    /// <param name="options">Session options and output transform, or null for the defaults; the caller keeps ownership.</param>
    /// <exception cref="InvalidOperationException">The file's model differs from this signature.</exception>
    public OnnxModel Load(string path, OnnxModelOptions? options = null)
    {
        var model = new OnnxModel(path, new OnnxModelOptions
        {
            OutputName = options?.OutputName ?? OutputName,
            SessionOptions = options?.SessionOptions,
            OutputTransform = options?.OutputTransform,
        });
        try
        {
            return Check(model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static string Names(IEnumerable<string> names) => "(" + string.Join(", ", names.Select(n => $"'{n}'")) + ")";
}
