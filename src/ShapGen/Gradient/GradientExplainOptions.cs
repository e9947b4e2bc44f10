using System;
using System.Linq;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>How all outputs' gradients are taken from one batch of interpolated inputs.</summary>
public enum GradientOutputMode
{
    /// <summary>Let the engine choose (currently <see cref="RetainGraph"/>, the faster mode measured on W1).</summary>
    Auto,

    /// <summary>One forward pass, then one backward pass per explained output on the retained graph.</summary>
    RetainGraph,

    /// <summary>The batch replicated once per explained output: one forward and one backward pass over k× the rows.</summary>
    Replicate,
}

/// <summary>What a layer explanation multiplies each draw's gradient by.</summary>
public enum LayerAttributionRule
{
    /// <summary>
    /// ShapGen's default: the draws interpolate between the layer inputs of x and of the background row, and the
    /// gradient is multiplied by (x_layer − r_layer), so layer attributions add up to f(x) − E[f(background)].
    /// </summary>
    Difference,

    /// <summary>
    /// shap's PyTorch rule (<c>GradientExplainer((model, layer), …)</c>): the draws interpolate the model inputs,
    /// r + α(x − r), and the gradient with respect to the layer input at that point is multiplied by the layer input
    /// itself. The attributions do not add up to the output change; choose it to reproduce shap's numbers.
    /// </summary>
    ShapActivation,
}

/// <summary>
/// Draws made by another tool, to reproduce its expected gradients exactly: for explained sample s and draw d, the
/// background row <c>BackgroundIndex[s, d]</c> and the interpolation point α = <c>Alpha[s, d]</c>. shap draws them
/// per sample and draw as <c>rind = np.random.choice(len(background))</c> then <c>t = np.random.uniform()</c> after
/// <c>np.random.seed(rseed)</c> (see docs/gradient-explainer.md, "Matching shap's numbers").
/// </summary>
public sealed class GradientDraws
{
    private readonly long[,] _index;
    private readonly double[,] _alpha;

    /// <summary>Takes the draws as arrays [samples, draws].</summary>
    /// <param name="backgroundIndex">Background row of each draw, ≥ 0 (checked against the background at explanation time).</param>
    /// <param name="alpha">Interpolation point of each draw, in [0, 1]; the same shape as <paramref name="backgroundIndex"/>.</param>
    /// <exception cref="ArgumentException">The shapes differ, an index is negative or an α is outside [0, 1]; the message names the entry.</exception>
    public GradientDraws(long[,] backgroundIndex, double[,] alpha)
    {
        ArgumentNullException.ThrowIfNull(backgroundIndex);
        ArgumentNullException.ThrowIfNull(alpha);
        if (backgroundIndex.GetLength(0) != alpha.GetLength(0) || backgroundIndex.GetLength(1) != alpha.GetLength(1))
            throw new ArgumentException(
                $"backgroundIndex is [{backgroundIndex.GetLength(0)}, {backgroundIndex.GetLength(1)}] but alpha is " +
                $"[{alpha.GetLength(0)}, {alpha.GetLength(1)}]; both must be [samples, draws].", nameof(alpha));
        if (backgroundIndex.GetLength(1) == 0)
            throw new ArgumentException("The draws hold no draw per sample; give at least one.", nameof(backgroundIndex));
        for (int s = 0; s < alpha.GetLength(0); s++)
            for (int d = 0; d < alpha.GetLength(1); d++)
            {
                if (backgroundIndex[s, d] < 0)
                    throw new ArgumentException($"backgroundIndex[{s}, {d}] is {backgroundIndex[s, d]}; a background row index is ≥ 0.", nameof(backgroundIndex));
                double a = alpha[s, d];
                if (!(a >= 0 && a <= 1))
                    throw new ArgumentException($"alpha[{s}, {d}] is {a}; α must lie in [0, 1].", nameof(alpha));
            }
        _index = (long[,])backgroundIndex.Clone();
        _alpha = (double[,])alpha.Clone();
    }

    /// <summary>Takes the draws from two tensors [samples, draws] (e.g. read with <see cref="Npz.Load(string)"/>).</summary>
    /// <param name="backgroundIndex">An integer tensor of background row indexes.</param>
    /// <param name="alpha">A floating-point tensor of interpolation points in [0, 1].</param>
    /// <exception cref="ArgumentException">A tensor is not 2-D or has the wrong kind of element type; or as the array constructor.</exception>
    public static GradientDraws FromTensors(Tensor backgroundIndex, Tensor alpha)
    {
        ArgumentNullException.ThrowIfNull(backgroundIndex);
        ArgumentNullException.ThrowIfNull(alpha);
        if (backgroundIndex.dim() != 2 || backgroundIndex.is_floating_point() || backgroundIndex.dtype == ScalarType.Bool)
            throw new ArgumentException(
                $"backgroundIndex must be a 2-D integer tensor [samples, draws]; it is {backgroundIndex.dtype} {Shapes.Format(backgroundIndex.shape)}.",
                nameof(backgroundIndex));
        if (alpha.dim() != 2 || !alpha.is_floating_point())
            throw new ArgumentException(
                $"alpha must be a 2-D floating-point tensor [samples, draws]; it is {alpha.dtype} {Shapes.Format(alpha.shape)}.", nameof(alpha));
        using var scope = NewDisposeScope();
        return new GradientDraws(ToArray<long>(backgroundIndex.to_type(int64)), ToArray<double>(alpha.to_type(float64)));
    }

    private static T[,] ToArray<T>(Tensor t) where T : unmanaged
    {
        long rows = t.shape[0], columns = t.shape[1];
        var flat = t.cpu().contiguous().data<T>().ToArray();
        var result = new T[rows, columns];
        for (long i = 0; i < rows; i++)
            for (long j = 0; j < columns; j++)
                result[i, j] = flat[i * columns + j];
        return result;
    }

    /// <summary>Explained samples the draws are for (rows).</summary>
    public int SampleCount => _index.GetLength(0);

    /// <summary>Draws per sample (columns); must equal <see cref="GradientExplainOptions.NSamples"/>.</summary>
    public int DrawCount => _index.GetLength(1);

    internal long Index(long sample, long draw) => _index[sample, draw];

    internal double Alpha(long sample, long draw) => _alpha[sample, draw];

    /// <summary>
    /// Throws unless the draws cover samples <paramref name="first"/> … <paramref name="first"/> + <paramref name="samples"/> − 1
    /// with <paramref name="nsamples"/> draws each, against <paramref name="backgroundRows"/> rows.
    /// </summary>
    internal void Check(long first, long samples, int nsamples, long backgroundRows)
    {
        if (SampleCount < first + samples)
            throw new ArgumentException(
                $"options.Draws has draws for {SampleCount} sample(s) but samples {first} to {first + samples - 1} are explained " +
                "(SampleIndexOffset + the rows given); give one row of draws per explained sample.", "options");
        if (DrawCount != nsamples)
            throw new ArgumentException(
                $"options.Draws has {DrawCount} draw(s) per sample but NSamples is {nsamples}; set NSamples = {DrawCount}.", "options");
        for (long s = first; s < first + samples; s++)
            for (int d = 0; d < DrawCount; d++)
                if (_index[s, d] >= backgroundRows)
                    throw new ArgumentException(
                        $"options.Draws.BackgroundIndex[{s}, {d}] is {_index[s, d]} but the background has {backgroundRows} row(s) (indexes 0 to {backgroundRows - 1}).",
                        "options");
    }
}

/// <summary>Options of <see cref="GradientExplainer.Explain"/> (shap's <c>shap_values</c> arguments).</summary>
public sealed class GradientExplainOptions : ExplainOptions
{
    private int _nsamples = 200;
    private double _localSmoothing;
    private GradientOutputMode _outputMode = GradientOutputMode.Auto;
    private LayerAttributionRule _layerRule = LayerAttributionRule.Difference;

    /// <summary>Creates options with the defaults.</summary>
    public GradientExplainOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/> (see <see cref="ExplainOptions(ExplainOptions)"/>).</summary>
    /// <param name="other">The options to copy.</param>
    public GradientExplainOptions(GradientExplainOptions other) : base(other)
    {
        _nsamples = other._nsamples;
        _localSmoothing = other._localSmoothing;
        ReturnVariances = other.ReturnVariances;
        _outputMode = other._outputMode;
        _layerRule = other._layerRule;
        Draws = other.Draws;
    }

    /// <summary>Draws per explained sample (shap's <c>nsamples</c>); at least 1. Memory does not grow with it: draws are made per batch.</summary>
    public int NSamples
    {
        get => _nsamples;
        set => _nsamples = OptionValue.Checked(value, value >= 1, nameof(NSamples),
            "NSamples must be at least 1.");
    }

    /// <summary>
    /// Standard deviation σ of Gaussian noise added to the explained sample before interpolating (shap's
    /// <c>local_smoothing</c>): x̃ = x + N(0, σ²), the model is evaluated at r + α(x̃ − r) and the gradient is
    /// multiplied by (x̃ − r), as shap does. 0 (the default) adds none; must be finite and ≥ 0.
    /// </summary>
    public double LocalSmoothing
    {
        get => _localSmoothing;
        set => _localSmoothing = OptionValue.Checked(value, double.IsFinite(value) && value >= 0, nameof(LocalSmoothing),
            "LocalSmoothing must be a finite standard deviation ≥ 0.");
    }

    /// <summary>
    /// Also return the variance of each attribution estimate: the population variance of the nsamples terms
    /// divided by nsamples (var/n, the variance of the mean). shap's <c>return_variances</c> reports var/√n instead.
    /// </summary>
    public bool ReturnVariances { get; set; }

    /// <summary>How all outputs' gradients are taken; see <see cref="GradientOutputMode"/>.</summary>
    public GradientOutputMode OutputMode
    {
        get => _outputMode;
        set => _outputMode = OptionValue.Defined(value, nameof(OutputMode));
    }

    /// <summary>
    /// In layer mode, what the gradient is multiplied by: <see cref="LayerAttributionRule.Difference"/> (the default,
    /// additive) or <see cref="LayerAttributionRule.ShapActivation"/> (shap's numbers). Ignored without a layer.
    /// </summary>
    public LayerAttributionRule LayerRule
    {
        get => _layerRule;
        set => _layerRule = OptionValue.Defined(value, nameof(LayerRule));
    }

    /// <summary>
    /// Draws to use instead of ShapGen's seeded ones (e.g. shap's, recorded in Python), one row per explained sample
    /// and <see cref="NSamples"/> columns; null (the default) draws with <see cref="ExplainOptions.Seed"/>. Row
    /// <see cref="ExplainOptions.SampleIndexOffset"/> + s serves the call's sample s, so a split run replays the same
    /// draws. Local smoothing noise still comes from ShapGen's seeded draws.
    /// </summary>
    public GradientDraws? Draws { get; set; }
}
