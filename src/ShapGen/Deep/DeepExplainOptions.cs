namespace ShapGen;

/// <summary>Options of <see cref="DeepExplainer.Explain"/> (shap's <c>DeepExplainer.shap_values</c> arguments).</summary>
public sealed class DeepExplainOptions : ExplainOptions
{
    /// <summary>Creates options with the defaults.</summary>
    public DeepExplainOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/> (see <see cref="ExplainOptions(ExplainOptions)"/>).</summary>
    /// <param name="other">The options to copy.</param>
    public DeepExplainOptions(DeepExplainOptions other) : base(other) => CheckAdditivity = other.CheckAdditivity;

    /// <summary>
    /// Checks that, for every explained sample and output, the attributions sum to f(x) − E[f(background)]
    /// (shap's <c>check_additivity</c>): within 0.01 for float32 as shap, 1e-6 for float64. A failure throws
    /// <see cref="DeepLiftAdditivityException"/> naming the output, the sample, the gap and the likely cause.
    /// </summary>
    public bool CheckAdditivity { get; set; } = true;
}

/// <summary>The attributions of a DeepExplainer run do not add up to the change of the model output.</summary>
public sealed class DeepLiftAdditivityException : System.InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The full explanation.</param>
    /// <param name="output">The model output (index into the model's outputs) that failed.</param>
    /// <param name="sample">The explained sample (row of the inputs) that failed.</param>
    /// <param name="gap">f(x) − E[f(background)] − Σ attributions.</param>
    public DeepLiftAdditivityException(string message, long output, long sample, double gap) : base(message)
    {
        Output = output;
        Sample = sample;
        Gap = gap;
    }

    /// <summary>The model output (index into the model's outputs) with the largest gap.</summary>
    public long Output { get; }

    /// <summary>The explained sample with the largest gap.</summary>
    public long Sample { get; }

    /// <summary>f(x) − E[f(background)] − Σ attributions for that output and sample.</summary>
    public double Gap { get; }
}
