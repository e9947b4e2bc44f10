using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Captum's <c>DeepLift</c>: DeepLIFT with one baseline (reference) per sample, using <see cref="DeepExplainer"/>'s
/// rules (rescale through each nonlinearity, shap's rules for softmax and max-pooling). The attributions of each
/// output add up to f(x) − f(baseline), which <see cref="DeepExplainOptions.CheckAdditivity"/> verifies.
/// </summary>
/// <remarks>
/// A baseline shared by all samples runs as one batched <see cref="DeepExplainer"/> call over a one-row background;
/// one baseline per sample runs sample by sample. The explanation's expected values are f(baseline), averaged over
/// the samples when each has its own. The model's requirements are DeepExplainer's (nonlinearities as modules, or
/// written with <see cref="DeepLiftOps"/>).
/// </remarks>
public sealed class DeepLift
{
    private readonly ExplainableModel _model;
    private readonly IReadOnlyList<string>? _inputNames;

    /// <summary>Wraps <paramref name="model"/>.</summary>
    /// <param name="model">The model; its module tree is searched for nonlinear modules at each call.</param>
    /// <param name="labels">Names of the model outputs (one per output), carried into explanations; or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages; or null.</param>
    public DeepLift(ExplainableModel model, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        Labels = labels;
        _inputNames = inputNames;
    }

    /// <summary>Names of the model outputs, when given.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Explains <paramref name="inputs"/> against <paramref name="baselines"/>.</summary>
    /// <param name="inputs">One batched tensor per model input, on the model's device and in its dtype.</param>
    /// <param name="baselines">One tensor per input (Captum's <c>baselines</c>): the per-sample shape or [1, …] (one
    /// baseline for all samples), or [N, …] (one per sample); null uses zeros.</param>
    /// <param name="options">Ranked outputs, additivity check, batching; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch (and every sample with per-sample baselines).</param>
    /// <returns>An explanation the caller owns and must dispose.</returns>
    /// <exception cref="ArgumentException">An input or baseline is invalid; the message names it.</exception>
    /// <exception cref="NotSupportedException">The model holds a module with no DeepLIFT rule (named by its path).</exception>
    /// <exception cref="DeepLiftAdditivityException">The additivity check failed.</exception>
    public Explanation Explain(Tensor[] inputs, Tensor[]? baselines = null, DeepExplainOptions? options = null,
                               CancellationToken cancellationToken = default)
    {
        options ??= new DeepExplainOptions();
        long n = InputValidation.CheckBatch(inputs, nameof(inputs), _model.InputCount, null, _model.Device, _inputNames);
        var references = Baselines(baselines, inputs, n);
        try
        {
            if (references[0].shape[0] == 1)
            {
                using var shared = new DeepExplainer(_model, references, Labels, _inputNames);
                return shared.Explain(inputs, options, cancellationToken);
            }
            return PerSample(inputs, references, n, options, cancellationToken);
        }
        finally
        {
            foreach (var r in references) r.Dispose();
        }
    }

    private Explanation PerSample(Tensor[] inputs, Tensor[] references, long n, DeepExplainOptions options, CancellationToken cancellationToken)
    {
        var parts = new List<Explanation>();
        try
        {
            for (long s = 0; s < n; s++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var explainer = new DeepExplainer(_model, references.Select(r => r.narrow(0, s, 1)).ToArray(), Labels, _inputNames);
                var sampleOptions = new DeepExplainOptions(options)
                {
                    Progress = ProgressSlice.Of(options.Progress, s, 1, n, isLast: s == n - 1),
                };
                parts.Add(explainer.Explain(inputs.Select(x => x.narrow(0, s, 1)).ToArray(), sampleOptions, cancellationToken));
            }
            int k = parts[0].OutputCount, m = parts[0].InputCount;
            var values = Enumerable.Range(0, k)
                .Select(o => Enumerable.Range(0, m).Select(i => cat(parts.Select(p => p[o, i]).ToArray(), 0)).ToArray()).ToArray();
            var expected = stack(parts.Select(p => p.ExpectedValues).ToArray(), 0).mean(new long[] { 0 });
            var indexes = parts[0].IsRanked ? cat(parts.Select(p => p.OutputIndexes!).ToArray(), 0) : null;
            return new Explanation(values, expected, null, indexes, Labels);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>The checked baselines (see <see cref="InputValidation.Baselines"/>), one row per sample for every input when some are per sample; the caller disposes them.</summary>
    private Tensor[] Baselines(Tensor[]? baselines, Tensor[] inputs, long n)
    {
        var result = InputValidation.Baselines(baselines, inputs, n, _inputNames);
        long rows = result[0].shape[0];
        if (result.Any(r => r.shape[0] != rows))
        {
            // Mixed shared and per-sample baselines: give every input one row per sample.
            for (int i = 0; i < result.Length; i++)
                if (result[i].shape[0] != n)
                {
                    var expanded = result[i].expand(new[] { n }.Concat(result[i].shape.Skip(1)).ToArray()).contiguous();
                    result[i].Dispose();
                    result[i] = expanded;
                }
        }
        return result;
    }
}
