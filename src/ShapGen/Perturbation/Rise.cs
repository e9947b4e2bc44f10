using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// RISE (randomized input sampling, as DIANNA implements it): <c>NMasks</c> random binary grids of
/// <c>FeatureRes</c>×<c>FeatureRes</c> cells, each cell kept with probability <c>PKeep</c>, are upsampled bilinearly to
/// (FeatureRes + 1)·⌈H/FeatureRes⌉ pixels, shifted by a random offset below one cell and cropped to the image; the image
/// is shown through each mask M (x·M + baseline·(1 − M); DIANNA's x·M is baseline 0) and the saliency of output k is
/// Σᵢ f_k(x ⊙ Mᵢ)·Mᵢ / (NMasks·PKeep), the same value in every channel of a pixel.
/// </summary>
/// <remarks>
/// One-input image models: samples [H, W], [C, H, W] or [H, W, C] (<see cref="RiseOptions.Layout"/>). Masks are drawn
/// per sample from (seed, global sample index, mask index), so results do not depend on the batch size. When
/// <see cref="RiseOptions.PKeep"/> is null it is estimated per sample as DIANNA does. All masked images of a call run in
/// large batches through the shared batching; the explanation's expected values are the mean over samples of
/// f(baseline).
/// </remarks>
public sealed class Rise : PerturbationExplainer
{
    /// <summary>DIANNA's candidates when estimating p_keep: 0.1, 0.2, …, 0.9.</summary>
    private static readonly double[] KeepCandidates = Enumerable.Range(1, 9).Select(i => i / 10.0).ToArray();

    /// <summary>Masks per candidate when estimating p_keep (DIANNA's 100).</summary>
    private const int EstimateMasks = 100;

    /// <summary>Creates the explainer.</summary>
    /// <param name="model">The model: a TorchSharp module, a delegate over batches, or an ONNX model's adapter.</param>
    /// <param name="labels">Names of the model outputs, one per output, or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages, or null.</param>
    public Rise(ExplainableModel model, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
        : base(model, labels, inputNames)
    {
    }

    /// <summary>Explains every row of <paramref name="inputs"/>: for each output, a saliency map shaped like the input batch.</summary>
    /// <param name="inputs">One tensor, [N, H, W], [N, C, H, W] or [N, H, W, C].</param>
    /// <param name="options">NMasks, FeatureRes, PKeep, layout, baseline, seed, ranked outputs, batching and progress; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public Explanation Explain(Tensor[] inputs, RiseOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RiseOptions();
        using var scope = NewDisposeScope();
        var run = Start(inputs, options);
        var image = ImageGeometry.Of(run.SampleShapes, options.Layout, nameof(Rise));
        var draws = SampleDraws.For(options);
        long n = run.SampleCount, m = options.NMasks;
        double[] keep = options.PKeep is double p
            ? Enumerable.Repeat(p, (int)n).ToArray()
            : EstimateKeep(run, image, draws, options, cancellationToken);
        var masks = new RiseMasks(image.Height, image.Width, options.FeatureRes, draws, run.Device);
        var outputs = run.Evaluate(n * m, (start, count) =>
        {
            var samples = new long[count];
            var index = new long[count];
            for (long r = 0; r < count; r++) (samples[r], index[r]) = Math.DivRem(start + r, m);
            var mask = masks.Make(DrawPurpose.RiseMasks, samples, index, r => keep[samples[r]]);
            return (tensor(samples, int64).to(run.Device), new[] { image.Spread(1.0 - mask) });
        }, options, cancellationToken);

        long k = outputs.shape[1], pixels = image.Height * image.Width;
        var saliency = zeros(new[] { n, k, pixels }, float64, run.Device);
        long chunk = Math.Max(1, Math.Min(m, (1L << 22) / pixels));
        for (long s = 0; s < n; s++)
            for (long from = 0; from < m; from += chunk)
            {
                using var part = NewDisposeScope();
                long c = Math.Min(chunk, m - from);
                var samples = Enumerable.Repeat(s, (int)c).ToArray();
                var index = Enumerable.Range(0, (int)c).Select(i => from + i).ToArray();
                var mask = masks.Make(DrawPurpose.RiseMasks, samples, index, _ => keep[s]).view(c, pixels);
                saliency[s].add_(outputs.narrow(0, s * m + from, c).t().matmul(mask));
            }
        var scale = tensor(keep.Select(q => 1.0 / (m * q)).ToArray(), float64).to(run.Device).view(n, 1, 1);
        var perElement = (saliency * scale).permute(0, 2, 1).index_select(1, image.PixelOfElement(run.Device)); // [N, D, K]
        return run.Finish(new[] { perElement }, options);
    }

    /// <summary>
    /// DIANNA's rule for p_keep: for each candidate 0.1, …, 0.9, 100 masks; the standard deviation of each output over
    /// the masked images, its maximum over outputs; the candidate with the largest (the first on ties).
    /// </summary>
    private static double[] EstimateKeep(PerturbationRun run, ImageGeometry image, SampleDraws draws, RiseOptions options,
                                         CancellationToken cancellationToken)
    {
        long n = run.SampleCount, perSample = KeepCandidates.Length * EstimateMasks;
        var masks = new RiseMasks(image.Height, image.Width, options.FeatureRes, draws, run.Device);
        var outputs = run.Evaluate(n * perSample, (start, count) =>
        {
            var samples = new long[count];
            var index = new long[count];
            for (long r = 0; r < count; r++) (samples[r], index[r]) = Math.DivRem(start + r, perSample);
            var mask = masks.Make(DrawPurpose.RiseKeepEstimate, samples, index, r => KeepCandidates[index[r] / EstimateMasks]);
            return (tensor(samples, int64).to(run.Device), new[] { image.Spread(1.0 - mask) });
        }, options, cancellationToken);
        var spread = outputs.view(n, KeepCandidates.Length, EstimateMasks, -1).std(2, unbiased: false).amax(new long[] { -1 }).cpu();
        var values = spread.data<double>().ToArray();
        var keep = new double[n];
        for (long s = 0; s < n; s++)
        {
            int best = 0;
            for (int c = 1; c < KeepCandidates.Length; c++)
                if (values[s * KeepCandidates.Length + c] > values[s * KeepCandidates.Length + best]) best = c;
            keep[s] = KeepCandidates[best];
        }
        return keep;
    }
}
