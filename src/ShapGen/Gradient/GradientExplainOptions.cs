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
    /// <summary>Draws per explained sample (shap's <c>nsamples</c>); at least 1.</summary>
    public int NSamples { get; set; } = 200;

    /// <summary>
    /// Standard deviation σ of Gaussian noise added to the explained sample before interpolating (shap's
    /// <c>local_smoothing</c>): x̃ = x + N(0, σ²), the model is evaluated at r + α(x̃ − r) and the gradient is
    /// multiplied by (x̃ − r), as shap does. 0 (the default) adds none.
    /// </summary>
    public double LocalSmoothing { get; set; }

    /// <summary>
    /// Also return the variance of each attribution estimate: the population variance of the nsamples terms
    /// divided by nsamples (var/n, the variance of the mean). shap's <c>return_variances</c> reports var/√n instead.
    /// </summary>
    public bool ReturnVariances { get; set; }

    /// <summary>How all outputs' gradients are taken; see <see cref="GradientOutputMode"/>.</summary>
    public GradientOutputMode OutputMode { get; set; } = GradientOutputMode.Auto;
}
