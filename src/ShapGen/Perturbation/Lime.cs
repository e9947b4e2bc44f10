using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// LIME as the lime package's <c>LimeImageExplainer</c> does it (and DIANNA, which wraps it), for any model and any
/// features (superpixels through <see cref="KernelFeatureGroups.FromSegmentation"/>, or any grouping): <c>NumSamples</c>
/// binary rows z (the first all ones, the others uniform), the features with z = 0 at their baseline; weights
/// √exp(−d²/KernelWidth²) with d the cosine distance of z to all ones; per output a weighted ridge regression with
/// intercept (lime's <c>Ridge(alpha=1)</c>) of the model's output on z, over the <c>NumFeatures</c> features lime's
/// "auto" selection keeps. The attribution of a feature is its coefficient, given in full to each of its elements.
/// </summary>
/// <remarks>
/// <see cref="ExplainLocalModels"/> returns the local models themselves (intercept, coefficients, lime's top-k list,
/// the weighted R² score, the local prediction and the sampled rows). Rows are drawn per sample from (seed, global
/// sample index), so results do not depend on the batch size. All rows of a call run in large batches through the
/// shared batching; the explanation's expected values are the mean over samples of f(baseline).
/// </remarks>
public sealed class Lime : PerturbationExplainer
{
    /// <summary>Creates the explainer.</summary>
    /// <param name="model">The model: a TorchSharp module, a delegate over batches, or an ONNX model's adapter.</param>
    /// <param name="labels">Names of the model outputs, one per output, or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages, or null.</param>
    public Lime(ExplainableModel model, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
        : base(model, labels, inputNames)
    {
    }

    /// <summary>Explains every row of <paramref name="inputs"/>: for each output and input, each element carries its feature's coefficient.</summary>
    /// <param name="inputs">One tensor per model input, [N, …].</param>
    /// <param name="options">NumSamples, KernelWidth, NumFeatures, Alpha, feature groups, baselines, seed, ranked outputs, batching and progress; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public Explanation Explain(Tensor[] inputs, LimeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LimeOptions();
        using var scope = NewDisposeScope();
        var (run, maps, models) = Run(inputs, options, cancellationToken);
        long n = run.SampleCount, k = models.OutputCount, m = models.FeatureCount;
        var coefficients = new double[n * m * k];
        for (int s = 0; s < n; s++)
            for (int o = 0; o < k; o++)
            {
                var c = models.Coefficients(s, o);
                for (int f = 0; f < m; f++) coefficients[(s * m + f) * k + o] = c[f];
            }
        var perFeature = tensor(coefficients, new[] { n, m, k }, float64).to(run.Device);
        return run.Finish(maps.Select(map => perFeature.index_select(1, map)).ToArray(), options);
    }

    /// <summary>The local models of every sample and output: intercept, coefficients, lime's top-k list, score and sampled rows.</summary>
    /// <param name="inputs">One tensor per model input, [N, …].</param>
    /// <param name="options">As for <see cref="Explain"/>.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public LimeLocalModels ExplainLocalModels(Tensor[] inputs, LimeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LimeOptions();
        using var scope = NewDisposeScope();
        return Run(inputs, options, cancellationToken).Models;
    }

    private (PerturbationRun Run, Tensor[] Maps, LimeLocalModels Models) Run(Tensor[] inputs, LimeOptions options, CancellationToken cancellationToken)
    {
        var run = Start(inputs, options);
        var (maps, m) = run.FeatureMaps(options.FeatureGroups);
        long n = run.SampleCount, rows = options.NumSamples;
        var draws = SampleDraws.For(options);
        // Row 0 of each sample is all ones (x itself, f(x) reused); rows 1.. are uniform binary.
        var z = new bool[n][,];
        for (long s = 0; s < n; s++)
        {
            z[s] = new bool[rows, m];
            for (long f = 0; f < m; f++) z[s][0, f] = true;
            for (long r = 1; r < rows; r++)
                for (long f = 0; f < m; f++)
                    z[s][r, f] = draws.Uniform(DrawPurpose.LimeSamples, s, r * m + f) < 0.5;
        }
        var outputs = run.Evaluate(n * (rows - 1), (start, count) =>
        {
            var samples = new long[count];
            var hidden = new bool[count * m];
            for (long i = 0; i < count; i++)
            {
                var (s, r) = Math.DivRem(start + i, rows - 1);
                samples[i] = s;
                for (long f = 0; f < m; f++) hidden[i * m + f] = !z[s][r + 1, f];
            }
            var ablated = tensor(hidden, new[] { count, m }).to(run.Device);
            return (tensor(samples, int64).to(run.Device), maps.Select(map => ablated.index_select(1, map)).ToArray());
        }, options, cancellationToken);
        long k = outputs.shape[1];
        var fx = run.Fx.cpu().data<double>().ToArray();
        var perturbed = outputs.cpu().data<double>().ToArray();
        var fits = new LimeLocalModels.Fit[n, k];
        for (long s = 0; s < n; s++)
        {
            var weights = KernelWeights(z[s], options.KernelWidth);
            var design = new double[rows, m];
            for (long r = 0; r < rows; r++)
                for (long f = 0; f < m; f++)
                    design[r, f] = z[s][r, f] ? 1 : 0;
            for (long o = 0; o < k; o++)
            {
                var y = new double[rows];
                y[0] = fx[s * k + o];
                for (long r = 1; r < rows; r++) y[r] = perturbed[(s * (rows - 1) + r - 1) * k + o];
                fits[s, o] = FitOne(design, y, weights, options);
            }
        }
        return (run, maps, new LimeLocalModels(fits, z, (int)m));
    }

    /// <summary>lime_image's kernel √exp(−d²/width²) on the cosine distance of each row to the all-ones row (1 for an empty row, as sklearn).</summary>
    internal static double[] KernelWeights(bool[,] z, double width)
    {
        int rows = z.GetLength(0), m = z.GetLength(1);
        var weights = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            int on = 0;
            for (int f = 0; f < m; f++) if (z[r, f]) on++;
            double d = on == 0 ? 1 : 1 - Math.Sqrt((double)on / m);
            weights[r] = Math.Sqrt(Math.Exp(-d * d / (width * width)));
        }
        return weights;
    }

    /// <summary>lime's <c>explain_instance_with_data</c> for one output: "auto" feature selection, then the ridge fit and its score.</summary>
    private static LimeLocalModels.Fit FitOne(double[,] design, double[] y, double[] weights, LimeOptions options)
    {
        int m = design.GetLength(1);
        int keep = Math.Min(options.NumFeatures ?? m, m);
        int[] used = keep == m ? Enumerable.Range(0, m).ToArray()
            : keep <= 6 ? ForwardSelection(design, y, weights, keep)
            : HighestWeights(design, y, weights, keep);
        var (coef, intercept) = WeightedRidge.Solve(Columns(design, used), y, weights, options.Alpha);
        var full = new double[m];
        for (int j = 0; j < used.Length; j++) full[used[j]] = coef[j];
        double score = WeightedRidge.Score(Columns(design, used), y, weights, coef, intercept);
        double local = intercept + coef.Sum(); // row 0 is all ones
        return new LimeLocalModels.Fit(intercept, full, used, score, local);
    }

    /// <summary>lime's "forward_selection": greedily add the feature whose unregularised weighted fit scores best.</summary>
    private static int[] ForwardSelection(double[,] design, double[] y, double[] weights, int keep)
    {
        var used = new List<int>();
        int m = design.GetLength(1);
        for (int step = 0; step < keep; step++)
        {
            int best = -1;
            double bestScore = double.NegativeInfinity;
            for (int f = 0; f < m; f++)
            {
                if (used.Contains(f)) continue;
                var trial = used.Append(f).ToArray();
                var x = Columns(design, trial);
                var (coef, intercept) = WeightedRidge.Solve(x, y, weights, 0);
                double score = WeightedRidge.Score(x, y, weights, coef, intercept);
                if (score > bestScore) (best, bestScore) = (f, score);
            }
            used.Add(best);
        }
        return used.ToArray();
    }

    /// <summary>lime's "highest_weights": a ridge fit (alpha 0.01) on all features; the largest |coefficient| (the explained row is all ones).</summary>
    private static int[] HighestWeights(double[,] design, double[] y, double[] weights, int keep)
    {
        var (coef, _) = WeightedRidge.Solve(design, y, weights, 0.01);
        return Enumerable.Range(0, coef.Length).OrderByDescending(f => Math.Abs(coef[f])).Take(keep).ToArray();
    }

    private static double[,] Columns(double[,] design, int[] columns)
    {
        int rows = design.GetLength(0);
        var x = new double[rows, columns.Length];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < columns.Length; j++)
                x[r, j] = design[r, columns[j]];
        return x;
    }
}

/// <summary>
/// Weighted ridge regression with an unpenalised intercept, as sklearn's <c>Ridge(alpha).fit(X, y, sample_weight)</c>:
/// minimises Σ wᵣ(yᵣ − b − xᵣ·β)² + α‖β‖², by centring on the weighted means and solving the normal equations.
/// </summary>
internal static class WeightedRidge
{
    public static (double[] Coef, double Intercept) Solve(double[,] x, double[] y, double[] w, double alpha)
    {
        int rows = x.GetLength(0), m = x.GetLength(1);
        double total = w.Sum();
        var mean = new double[m];
        double yMean = 0;
        for (int r = 0; r < rows; r++)
        {
            yMean += w[r] * y[r];
            for (int j = 0; j < m; j++) mean[j] += w[r] * x[r, j];
        }
        yMean /= total;
        for (int j = 0; j < m; j++) mean[j] /= total;
        var a = new double[m, m];
        var b = new double[m];
        var centred = new double[m];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < m; j++) centred[j] = x[r, j] - mean[j];
            double dy = y[r] - yMean;
            for (int i = 0; i < m; i++)
            {
                double wi = w[r] * centred[i];
                b[i] += wi * dy;
                for (int j = i; j < m; j++) a[i, j] += wi * centred[j];
            }
        }
        for (int i = 0; i < m; i++)
        {
            a[i, i] += alpha;
            for (int j = 0; j < i; j++) a[i, j] = a[j, i];
        }
        var coef = SolveSymmetric(a, b);
        double intercept = yMean;
        for (int j = 0; j < m; j++) intercept -= mean[j] * coef[j];
        return (coef, intercept);
    }

    /// <summary>Weighted R² (sklearn's <c>r2_score</c> with sample weights): 1 for a perfect fit of a constant target, else 0 there.</summary>
    public static double Score(double[,] x, double[] y, double[] w, double[] coef, double intercept)
    {
        int rows = x.GetLength(0), m = x.GetLength(1);
        double total = w.Sum(), yMean = 0;
        for (int r = 0; r < rows; r++) yMean += w[r] * y[r];
        yMean /= total;
        double residual = 0, spread = 0;
        for (int r = 0; r < rows; r++)
        {
            double prediction = intercept;
            for (int j = 0; j < m; j++) prediction += x[r, j] * coef[j];
            residual += w[r] * (y[r] - prediction) * (y[r] - prediction);
            spread += w[r] * (y[r] - yMean) * (y[r] - yMean);
        }
        return spread == 0 ? (residual == 0 ? 1 : 0) : 1 - residual / spread;
    }

    /// <summary>Gaussian elimination with partial pivoting; a direction with no data (a zero pivot) gets coefficient 0.</summary>
    private static double[] SolveSymmetric(double[,] a, double[] b)
    {
        int m = b.Length;
        var order = Enumerable.Range(0, m).ToArray();
        a = (double[,])a.Clone();
        b = (double[])b.Clone();
        double scale = 0;
        for (int i = 0; i < m; i++) scale = Math.Max(scale, Math.Abs(a[i, i]));
        var x = new double[m];
        var pivotOf = new int[m];
        var singular = new bool[m];
        for (int col = 0; col < m; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < m; r++) if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
            if (Math.Abs(a[pivot, col]) <= 1e-12 * Math.Max(scale, 1e-300)) { singular[col] = true; continue; }
            if (pivot != col)
            {
                for (int j = 0; j < m; j++) (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
                (b[col], b[pivot]) = (b[pivot], b[col]);
            }
            for (int r = col + 1; r < m; r++)
            {
                double factor = a[r, col] / a[col, col];
                if (factor == 0) continue;
                for (int j = col; j < m; j++) a[r, j] -= factor * a[col, j];
                b[r] -= factor * b[col];
            }
        }
        for (int col = m - 1; col >= 0; col--)
        {
            if (singular[col]) continue;
            double sum = b[col];
            for (int j = col + 1; j < m; j++) sum -= a[col, j] * x[j];
            x[col] = sum / a[col, col];
        }
        return x;
    }
}

/// <summary>
/// LIME's local models for every explained sample and model output: the intercept, a coefficient per feature (0 for
/// features the selection dropped), lime's explanation list (features by decreasing |coefficient|), the weighted R²
/// score of the local model, its prediction at the explained sample, and the sampled binary rows.
/// </summary>
public sealed class LimeLocalModels
{
    internal sealed record Fit(double Intercept, double[] Coefficients, int[] Used, double Score, double LocalPrediction);

    private readonly Fit[,] _fits;
    private readonly bool[][,] _rows;

    internal LimeLocalModels(Fit[,] fits, bool[][,] rows, int featureCount)
    {
        _fits = fits;
        _rows = rows;
        FeatureCount = featureCount;
    }

    /// <summary>Explained samples N.</summary>
    public int SampleCount => _fits.GetLength(0);

    /// <summary>Model outputs K.</summary>
    public int OutputCount => _fits.GetLength(1);

    /// <summary>Features M (superpixels or feature groups).</summary>
    public int FeatureCount { get; }

    /// <summary>The local model's intercept (lime's <c>intercept[label]</c>).</summary>
    public double Intercept(int sample, int output) => Get(sample, output).Intercept;

    /// <summary>The local model's coefficient of every feature, length M (a copy); 0 for features not selected.</summary>
    public double[] Coefficients(int sample, int output) => (double[])Get(sample, output).Coefficients.Clone();

    /// <summary>lime's <c>local_exp[label]</c>: the selected features and their coefficients by decreasing |coefficient|, at most <paramref name="top"/> of them.</summary>
    public IReadOnlyList<(int Feature, double Weight)> TopFeatures(int sample, int output, int top = int.MaxValue)
    {
        var fit = Get(sample, output);
        return fit.Used.Select(f => (f, fit.Coefficients[f])).OrderByDescending(p => Math.Abs(p.Item2)).Take(top).ToArray();
    }

    /// <summary>lime's <c>score</c>: the weighted R² of the local model on the sampled rows.</summary>
    public double Score(int sample, int output) => Get(sample, output).Score;

    /// <summary>lime's <c>local_pred</c>: the local model's prediction at the explained sample (all features present).</summary>
    public double LocalPrediction(int sample, int output) => Get(sample, output).LocalPrediction;

    /// <summary>The sampled rows of one sample, [NumSamples, M] (a copy): true where the feature keeps its value; row 0 is all true.</summary>
    public bool[,] Rows(int sample) => (bool[,])_rows[Checked(sample, SampleCount, nameof(sample))].Clone();

    private Fit Get(int sample, int output) => _fits[Checked(sample, SampleCount, nameof(sample)), Checked(output, OutputCount, nameof(output))];

    private static int Checked(int index, int count, string name) =>
        index >= 0 && index < count ? index : throw new ArgumentOutOfRangeException(name, index, $"{name} must be in 0..{count - 1}.");
}
