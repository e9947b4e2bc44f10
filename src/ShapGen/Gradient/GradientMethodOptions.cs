using System;
using System.Collections.Generic;
using System.Linq;

namespace ShapGen;

/// <summary>
/// Options shared by Captum's gradient methods (<see cref="Saliency"/>, <see cref="InputXGradient"/>,
/// <see cref="IntegratedGradients"/>): the explained outputs (all, ranked, or one <see cref="Target"/>) and the
/// optional <see cref="NoiseTunnel"/>, on top of batching, seed, progress and logging.
/// </summary>
public class GradientMethodOptions : ExplainOptions
{
    private int? _target;

    /// <summary>Creates options with the defaults.</summary>
    public GradientMethodOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/> (see <see cref="ExplainOptions(ExplainOptions)"/>).</summary>
    /// <param name="other">The options to copy.</param>
    public GradientMethodOptions(GradientMethodOptions other) : base(other)
    {
        _target = other._target;
        NoiseTunnel = other.NoiseTunnel is null ? null : new NoiseTunnelOptions(other.NoiseTunnel);
    }

    /// <summary>
    /// Explain this one model output for every sample (Captum's <c>target</c> as one integer); at least 0. The
    /// explanation is then ranked with one rank whose output index is the target. Null explains all outputs, or the
    /// <see cref="ExplainOptions.RankedOutputs"/>; setting both is an error at the call.
    /// </summary>
    public int? Target
    {
        get => _target;
        set => _target = OptionValue.Checked(value, value is not < 0, nameof(Target), "Target must be a model output index ≥ 0 (or null).");
    }

    /// <summary>
    /// Runs the method under Captum's <c>NoiseTunnel</c>: each sample is explained at <see cref="NoiseTunnelOptions.NSamples"/>
    /// noisy copies and the attributions are aggregated (SmoothGrad, SmoothGrad², VarGrad). Null runs the method once.
    /// </summary>
    public NoiseTunnelOptions? NoiseTunnel { get; set; }
}

/// <summary>Options of <see cref="Saliency.Explain"/>.</summary>
public sealed class SaliencyOptions : GradientMethodOptions
{
    /// <summary>Creates options with the defaults.</summary>
    public SaliencyOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public SaliencyOptions(SaliencyOptions other) : base(other) => Abs = other.Abs;

    /// <summary>Return |∂f/∂x| (Captum's <c>abs</c>, the default); false returns the signed gradient.</summary>
    public bool Abs { get; set; } = true;
}

/// <summary>The integration rules of Captum's <c>method</c> argument.</summary>
public enum IntegrationMethod
{
    /// <summary>Gauss–Legendre nodes and weights on [0, 1] (Captum's <c>gausslegendre</c>, the default): exact for
    /// integrands that are polynomials of degree ≤ 2·NSteps − 1 along the path.</summary>
    GaussLegendre,
    /// <summary>α = j / n, weights 1/n (<c>riemann_left</c>); error O(1/n).</summary>
    RiemannLeft,
    /// <summary>α = (j + 1) / n, weights 1/n (<c>riemann_right</c>); error O(1/n).</summary>
    RiemannRight,
    /// <summary>α = (j + ½) / n, weights 1/n (<c>riemann_middle</c>); error O(1/n²).</summary>
    RiemannMiddle,
    /// <summary>
    /// α = j / (n − 1), weights 1/(n − 1) with both ends halved (<c>riemann_trapezoid</c>); error O(1/n²); needs
    /// NSteps ≥ 2. Captum uses weights 1/n here, which sum to 1 − 1/n; ShapGen's sum to 1 (see docs).
    /// </summary>
    RiemannTrapezoid,
}

/// <summary>Options of <see cref="IntegratedGradients.Explain(TorchSharp.torch.Tensor[], TorchSharp.torch.Tensor[], IntegratedGradientsOptions, System.Threading.CancellationToken)"/>.</summary>
public sealed class IntegratedGradientsOptions : GradientMethodOptions
{
    private int _nsteps = 50;
    private IntegrationMethod _method = IntegrationMethod.GaussLegendre;

    /// <summary>Creates options with the defaults.</summary>
    public IntegratedGradientsOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public IntegratedGradientsOptions(IntegratedGradientsOptions other) : base(other)
    {
        _nsteps = other._nsteps;
        _method = other._method;
    }

    /// <summary>Points on the path from the baseline to the input (Captum's <c>n_steps</c>, default 50); at least 1
    /// (2 for <see cref="IntegrationMethod.RiemannTrapezoid"/>).</summary>
    public int NSteps
    {
        get => _nsteps;
        set => _nsteps = OptionValue.Checked(value, value >= 1, nameof(NSteps), "NSteps must be at least 1.");
    }

    /// <summary>The integration rule (Captum's <c>method</c>, default Gauss–Legendre).</summary>
    public IntegrationMethod Method
    {
        get => _method;
        set => _method = OptionValue.Checked(value, Enum.IsDefined(value), nameof(Method), "Unknown integration method.");
    }
}

/// <summary>How a noise tunnel aggregates the attributions of the noisy copies (Captum's <c>nt_type</c>).</summary>
public enum NoiseTunnelType
{
    /// <summary>The mean attribution (<c>smoothgrad</c>).</summary>
    SmoothGrad,
    /// <summary>The mean of the squared attributions (<c>smoothgrad_sq</c>).</summary>
    SmoothGradSq,
    /// <summary>The variance of the attributions, E[a²] − E[a]² (<c>vargrad</c>).</summary>
    VarGrad,
}

/// <summary>
/// Captum's <c>NoiseTunnel</c> settings: each explained sample is copied <see cref="NSamples"/> times with Gaussian
/// noise N(0, σ²) added to each input (σ from <see cref="Stdevs"/>), the method explains every copy, and the copies'
/// attributions are aggregated by <see cref="Type"/>. Draws are keyed by (seed, sample, copy), so results do not
/// depend on batch sizes.
/// </summary>
public sealed class NoiseTunnelOptions
{
    private int _nsamples = 5;
    private NoiseTunnelType _type = NoiseTunnelType.SmoothGrad;
    private double[] _stdevs = { 1.0 };

    /// <summary>Creates settings with Captum's defaults: SmoothGrad, 5 samples, σ = 1.</summary>
    public NoiseTunnelOptions()
    {
    }

    /// <summary>Copies <paramref name="other"/>.</summary>
    /// <param name="other">The settings to copy.</param>
    public NoiseTunnelOptions(NoiseTunnelOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _nsamples = other._nsamples;
        _type = other._type;
        _stdevs = other._stdevs;
    }

    /// <summary>The aggregation (Captum's <c>nt_type</c>).</summary>
    public NoiseTunnelType Type
    {
        get => _type;
        set => _type = OptionValue.Checked(value, Enum.IsDefined(value), nameof(Type), "Unknown noise tunnel type.");
    }

    /// <summary>Noisy copies per sample (Captum's <c>nt_samples</c>, default 5); at least 1.</summary>
    public int NSamples
    {
        get => _nsamples;
        set => _nsamples = OptionValue.Checked(value, value >= 1, nameof(NSamples), "NSamples must be at least 1.");
    }

    /// <summary>
    /// Standard deviations of the noise (Captum's <c>stdevs</c>): one value for every input, or one per input; each
    /// finite and ≥ 0. Default 1.0.
    /// </summary>
    public IReadOnlyList<double> Stdevs
    {
        get => _stdevs;
        set
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Stdevs));
            if (value.Count == 0)
                throw new ArgumentOutOfRangeException(nameof(Stdevs), "Stdevs needs one value, or one per input; it is empty.");
            foreach (var s in value)
                if (!double.IsFinite(s) || s < 0)
                    throw new ArgumentOutOfRangeException(nameof(Stdevs), s, "Each standard deviation must be finite and ≥ 0.");
            _stdevs = value.ToArray();
        }
    }
}
