using System;

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

/// <summary>Options of <see cref="GradientExplainer.Explain"/> (shap's <c>shap_values</c> arguments).</summary>
public sealed class GradientExplainOptions : ExplainOptions
{
    private int _nsamples = 200;
    private double _localSmoothing;
    private GradientOutputMode _outputMode = GradientOutputMode.Auto;

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
}
