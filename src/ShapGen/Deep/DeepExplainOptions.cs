namespace ShapGen;

/// <summary>How <see cref="DeepExplainer"/> splits the change of a softmax output among its inputs.</summary>
public enum DeepSoftmaxRule
{
    /// <summary>
    /// ShapGen's default: softmax as exp (rescale rule), a sum (linear) and a division whose two inputs share the
    /// change by the two-player Shapley average, as shap's TensorFlow explainer does. Every input z_j gets its share
    /// of every output's change, so a logit that lowers the other classes' probabilities is credited with that.
    /// </summary>
    ShapleySplit,

    /// <summary>
    /// shap's PyTorch rule (<c>nonlinear_1d</c> on <c>Softmax</c> in <c>deep_pytorch.py</c>): softmax treated as an
    /// elementwise function, multiplier (s_j(x) − s_j(r)) / (z_j − z_j') for input j, the true gradient where
    /// |z_j − z_j'| &lt; 1e-6. Additive too, but the change of output k is credited to logit k alone; choose it to
    /// reproduce shap's numbers.
    /// </summary>
    ShapElementwise,
}

/// <summary>Options of <see cref="DeepExplainer.Explain"/> (shap's <c>DeepExplainer.shap_values</c> arguments).</summary>
public sealed class DeepExplainOptions : ExplainOptions
{
    /// <summary>Creates options with the defaults.</summary>
    public DeepExplainOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/> (see <see cref="ExplainOptions(ExplainOptions)"/>).</summary>
    /// <param name="other">The options to copy.</param>
    public DeepExplainOptions(DeepExplainOptions other) : base(other)
    {
        CheckAdditivity = other.CheckAdditivity;
        _softmax = other._softmax;
    }

    private DeepSoftmaxRule _softmax = DeepSoftmaxRule.ShapleySplit;

    /// <summary>
    /// Checks that, for every explained sample and output, the attributions sum to f(x) − E[f(background)]
    /// (shap's <c>check_additivity</c>): within 0.01 for float32 as shap, 1e-6 for float64. A failure throws
    /// <see cref="DeepLiftAdditivityException"/> naming the output, the sample, the gap and the likely cause.
    /// </summary>
    public bool CheckAdditivity { get; set; } = true;

    /// <summary>
    /// The rule for softmax (modules and <see cref="DeepLiftOps.Softmax"/>); <see cref="DeepSoftmaxRule.ShapleySplit"/>
    /// by default, <see cref="DeepSoftmaxRule.ShapElementwise"/> to match shap's PyTorch DeepExplainer.
    /// </summary>
    public DeepSoftmaxRule Softmax
    {
        get => _softmax;
        set => _softmax = OptionValue.Defined(value, nameof(Softmax));
    }
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
