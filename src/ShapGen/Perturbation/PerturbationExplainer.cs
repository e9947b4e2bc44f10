using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// What the perturbation explainers (<see cref="FeatureAblation"/>, <see cref="Occlusion"/>,
/// <see cref="ShapleyValueSampling"/>, <see cref="Rise"/>, <see cref="Lime"/>, <see cref="Partition"/>) share: the model,
/// the names of its outputs and inputs, and the start of a run.
/// </summary>
public abstract class PerturbationExplainer
{
    private readonly ExplainableModel _model;
    private readonly IReadOnlyList<string>? _inputNames;

    private protected PerturbationExplainer(ExplainableModel model, IReadOnlyList<string>? labels, IReadOnlyList<string>? inputNames)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        Labels = labels;
        _inputNames = inputNames;
    }

    /// <summary>Names of the model outputs, when given.</summary>
    public IReadOnlyList<string>? Labels { get; }

    private protected PerturbationRun Start(Tensor[] inputs, PerturbationOptions options) =>
        PerturbationRun.Start(GetType().Name, _model, inputs, options, Labels, _inputNames);
}
