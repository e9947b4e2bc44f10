using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Feature ablation (Captum's <c>FeatureAblation</c>): each feature (an element, or a group of elements) in turn takes
/// its baseline, and its attribution for output k is f(x)_k − f(x with the feature ablated)_k, given in full to every
/// element of the feature, as Captum does. Model-agnostic: a TorchSharp module, a delegate or an ONNX model.
/// </summary>
/// <remarks>
/// All (sample, feature) perturbations of a call run in large batches (Captum's <c>perturbations_per_eval</c> is
/// replaced by the shared batching: memory budget, out-of-memory halving, cancellation, progress); every output is
/// explained from the same forwards. The explanation's expected values are the mean over samples of f(baseline).
/// </remarks>
public sealed class FeatureAblation : PerturbationExplainer
{
    /// <summary>Creates the explainer.</summary>
    /// <param name="model">The model: a TorchSharp module, a delegate over batches, or an ONNX model's adapter.</param>
    /// <param name="labels">Names of the model outputs, one per output, or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages, or null.</param>
    public FeatureAblation(ExplainableModel model, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
        : base(model, labels, inputNames)
    {
    }

    /// <summary>Explains every row of <paramref name="inputs"/>: for each output and input, attributions shaped like the input batch.</summary>
    /// <param name="inputs">One tensor per model input, [N, …].</param>
    /// <param name="options">Feature groups, baselines, ranked outputs, batching and progress; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public Explanation Explain(Tensor[] inputs, FeatureAblationOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FeatureAblationOptions();
        using var scope = NewDisposeScope();
        var run = Start(inputs, options);
        var (maps, m) = run.SampleFeatureMaps(options.FeatureGroups, options.SampleFeatureGroups); // [N, D_i] each
        long n = run.SampleCount;
        var features = arange(m, int64, run.Device).unsqueeze(0);
        var outputs = run.Evaluate(n * m, (start, count) =>
        {
            var rows = arange(start, start + count, int64, run.Device);
            var samples = rows.div(m, rounding_mode: RoundingMode.floor);
            var ablated = features.eq(rows.remainder(m).unsqueeze(1)); // [count, M]
            return (samples, maps.Select(map => ablated.gather(1, map.index_select(0, samples))).ToArray());
        }, options, cancellationToken);
        var diff = run.Fx.unsqueeze(1) - outputs.view(n, m, -1); // [N, M, K]
        long k = diff.shape[2];
        return run.Finish(maps.Select(map => diff.gather(1, map.unsqueeze(2).expand(n, map.shape[1], k))).ToArray(), options);
    }
}
