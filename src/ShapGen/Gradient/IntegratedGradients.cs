using System.Collections.Generic;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Captum's <c>IntegratedGradients</c>: φ = (x − b) ⊙ ∫₀¹ ∂f/∂x(b + α(x − b)) dα, the integral taken by the rule of
/// <see cref="IntegratedGradientsOptions.Method"/> over <see cref="IntegratedGradientsOptions.NSteps"/> points. The
/// attributions of each output add up to f(x) − f(b) up to the rule's error (see the overload that returns the
/// convergence delta). The explanation's expected values are f(b), averaged over the samples when each has its own
/// baseline.
/// </summary>
public sealed class IntegratedGradients : GradientAttribution
{
    /// <summary>Wraps <paramref name="model"/>.</summary>
    /// <param name="model">The model; its module, if any, is put in evaluation mode.</param>
    /// <param name="labels">Names of the model outputs (one per output), carried into explanations; or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages; or null.</param>
    public IntegratedGradients(ExplainableModel model, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
        : base(model, labels, inputNames)
    {
    }

    /// <summary>Explains <paramref name="inputs"/> against <paramref name="baselines"/>.</summary>
    /// <param name="inputs">One batched tensor per model input, on the model's device and in its dtype.</param>
    /// <param name="baselines">One tensor per input (Captum's <c>baselines</c>): the per-sample shape or [1, …] (one
    /// baseline for all samples), or [N, …] (one per sample); null uses zeros.</param>
    /// <param name="options">Steps, rule, target or ranking, noise tunnel, batching (Captum's <c>internal_batch_size</c>
    /// is <see cref="ExplainOptions.MaxBatchRows"/>); null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch and between the per-output backward passes.</param>
    /// <returns>An explanation the caller owns and must dispose.</returns>
    /// <exception cref="System.ArgumentException">An input, baseline or option is invalid; the message names it.</exception>
    /// <exception cref="System.InvalidOperationException">The model's output is detached from its inputs although f(x) ≠ f(b).</exception>
    /// <exception cref="System.OperationCanceledException">Cancelled; everything allocated is freed.</exception>
    public Explanation Explain(Tensor[] inputs, Tensor[]? baselines = null, IntegratedGradientsOptions? options = null,
                               CancellationToken cancellationToken = default) =>
        Explain(inputs, baselines, options, false, out _, cancellationToken);

    /// <summary>
    /// Explains <paramref name="inputs"/> and returns Captum's convergence delta (<c>return_convergence_delta</c>):
    /// Σ φ − (f(x) − f(b)) per sample and explained output, [N, k] in the explanation's output order. Not available
    /// with a noise tunnel.
    /// </summary>
    /// <param name="inputs">As in the other overload.</param>
    /// <param name="baselines">As in the other overload.</param>
    /// <param name="options">As in the other overload; <see cref="GradientMethodOptions.NoiseTunnel"/> must be null.</param>
    /// <param name="convergenceDelta">Receives the delta [N, k]; the caller owns it.</param>
    /// <param name="cancellationToken">As in the other overload.</param>
    /// <returns>An explanation the caller owns and must dispose.</returns>
    public Explanation Explain(Tensor[] inputs, Tensor[]? baselines, IntegratedGradientsOptions? options, out Tensor convergenceDelta,
                               CancellationToken cancellationToken = default)
    {
        if (options?.NoiseTunnel is not null)
            throw new System.ArgumentException("The convergence delta is not defined under a noise tunnel; set NoiseTunnel = null.", nameof(options));
        var result = Explain(inputs, baselines, options, true, out var delta, cancellationToken);
        convergenceDelta = delta!;
        return result;
    }

    private Explanation Explain(Tensor[] inputs, Tensor[]? baselines, IntegratedGradientsOptions? options, bool wantDelta, out Tensor? delta,
                                CancellationToken cancellationToken)
    {
        options ??= new IntegratedGradientsOptions();
        var (alphas, weights) = IntegrationRule.For(options.Method, options.NSteps);
        var method = new PathMethod(alphas, weights, Multiplier.InputMinusBaseline, false);
        return Run(method, inputs, baselines, options, wantDelta, out delta, cancellationToken);
    }
}
