using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Shapley value sampling (Captum's <c>ShapleyValueSampling</c>): for each of <c>NSamples</c> random feature
/// permutations, features are switched from their baseline to their input value one at a time, and each feature
/// is credited with the change of the output it causes; the attributions are the mean over permutations, given in
/// full to every element of a feature (as Captum does). Every permutation telescopes from f(baseline) to f(x), so the
/// features' values add up to f(x) − f(baseline) exactly (f(x) is evaluated once and reused as the last step).
/// </summary>
/// <remarks>
/// Permutations are drawn per sample from (seed, global sample index) (<see cref="ExplainOptions.Seed"/>,
/// <see cref="ExplainOptions.SampleIndexOffset"/>), so results do not depend on the batch size or on how samples are
/// split over calls. All perturbations of a call run in large batches through the shared batching.
/// </remarks>
public sealed class ShapleyValueSampling : PerturbationExplainer
{
    /// <summary>Creates the explainer.</summary>
    /// <param name="model">The model: a TorchSharp module, a delegate over batches, or an ONNX model's adapter.</param>
    /// <param name="labels">Names of the model outputs, one per output, or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages, or null.</param>
    public ShapleyValueSampling(ExplainableModel model, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
        : base(model, labels, inputNames)
    {
    }

    /// <summary>Explains every row of <paramref name="inputs"/>: for each output and input, attributions shaped like the input batch.</summary>
    /// <param name="inputs">One tensor per model input, [N, …].</param>
    /// <param name="options">NSamples, antithetic pairs, feature groups, baselines, seed, ranked outputs, batching and progress.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public Explanation Explain(Tensor[] inputs, ShapleyValueSamplingOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ShapleyValueSamplingOptions();
        using var scope = NewDisposeScope();
        var run = Start(inputs, options);
        var (maps, m) = run.SampleFeatureMaps(options.FeatureGroups, options.SampleFeatureGroups); // [N, D_i] each
        long n = run.SampleCount, j = options.NSamples, steps = m - 1;
        var rank = tensor(Ranks(SampleDraws.For(options), n, j, m, options.Antithetic), new[] { n * j, m }, int64).to(run.Device);
        var outputs = run.Evaluate(n * j * steps, (start, count) =>
        {
            // Row (sample s, permutation p, step t = 1..M−1): the first t features of the permutation take their input values.
            var rows = arange(start, start + count, int64, run.Device);
            var permutation = rows.div(steps, rounding_mode: RoundingMode.floor);
            var t = rows.remainder(steps) + 1;
            var ablated = rank.index_select(0, permutation).ge(t.unsqueeze(1)); // [count, M]
            var samples = permutation.div(j, rounding_mode: RoundingMode.floor);
            return (samples, maps.Select(map => ablated.gather(1, map.index_select(0, samples))).ToArray());
        }, options, cancellationToken);
        long k = run.Fx.shape[1];
        var path = cat(new[]
        {
            run.Fb.view(n, 1, 1, k).expand(n, j, 1, k),
            outputs.view(n, j, steps, k),
            run.Fx.view(n, 1, 1, k).expand(n, j, 1, k),
        }, 2); // [N, J, M + 1, K]: the outputs along each permutation
        var marginal = path.narrow(2, 1, m) - path.narrow(2, 0, m); // [N, J, M, K]: the change at each position
        var phi = marginal.gather(2, rank.view(n, j, m, 1).expand(n, j, m, k)).mean(new long[] { 1 }); // [N, M, K]
        return run.Finish(maps.Select(map => phi.gather(1, map.unsqueeze(2).expand(n, map.shape[1], k))).ToArray(), options);
    }

    /// <summary>
    /// For each sample and permutation, the position of every feature, [N·J·M] row-major: Fisher–Yates with draws keyed by
    /// (seed, global sample index, draw); with <paramref name="antithetic"/>, odd permutations reverse the one before.
    /// </summary>
    private static long[] Ranks(SampleDraws draws, long n, long j, long m, bool antithetic)
    {
        var rank = new long[n * j * m];
        var permutation = new long[m];
        for (long s = 0; s < n; s++)
            for (long p = 0; p < j; p++)
            {
                long row = (s * j + p) * m;
                if (antithetic && p % 2 == 1)
                {
                    for (long f = 0; f < m; f++) rank[row + f] = m - 1 - rank[row - m + f];
                    continue;
                }
                for (long f = 0; f < m; f++) permutation[f] = f;
                for (long t = m - 1; t > 0; t--)
                {
                    long u = draws.Index(DrawPurpose.Permutations, s, p * m + t, t + 1);
                    (permutation[t], permutation[u]) = (permutation[u], permutation[t]);
                }
                for (long t = 0; t < m; t++) rank[row + permutation[t]] = t;
            }
        return rank;
    }
}
