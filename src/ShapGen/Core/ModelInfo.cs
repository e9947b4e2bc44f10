using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// What the generator knows about one annotated model, filled in by the generated code: its inputs' names and
/// per-sample shapes and its output labels. The engines get the names and labels from it for their messages.
/// </summary>
public sealed class ModelInfo
{
    /// <summary>Describes a model.</summary>
    /// <param name="inputNames">The <c>forward</c> parameter names, in order.</param>
    /// <param name="sampleShapes">The declared per-sample shape of each input, in order.</param>
    /// <param name="labels">The output labels in output order, or null when the model has none.</param>
    /// <exception cref="ArgumentException">The input names and shapes differ in number.</exception>
    public ModelInfo(IReadOnlyList<string> inputNames, IReadOnlyList<long[]> sampleShapes, IReadOnlyList<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(inputNames);
        ArgumentNullException.ThrowIfNull(sampleShapes);
        if (inputNames.Count != sampleShapes.Count)
            throw new ArgumentException(
                $"There are {inputNames.Count} input name(s) but {sampleShapes.Count} sample shape(s); expected one of each per input.",
                nameof(sampleShapes));
        InputNames = inputNames;
        SampleShapes = sampleShapes;
        Labels = labels;
    }

    /// <summary>The <c>forward</c> parameter names, in order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The declared per-sample shape of each input, in order.</summary>
    public IReadOnlyList<long[]> SampleShapes { get; }

    /// <summary>The output labels in output order, or null.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>
    /// Checks one batch of inputs against the declaration (see <see cref="InputValidation.CheckBatch"/>); a null
    /// tensor is reported under its input's name.
    /// </summary>
    /// <param name="tensors">One tensor per input, in order.</param>
    /// <returns>The batch size N.</returns>
    public long CheckBatch(Tensor?[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        for (int i = 0; i < tensors.Length && i < InputNames.Count; i++)
            if (tensors[i] is null) throw new ArgumentNullException(InputNames[i]);
        return InputValidation.CheckBatch(tensors!, "batch", InputNames.Count, SampleShapes, null, InputNames);
    }
}
