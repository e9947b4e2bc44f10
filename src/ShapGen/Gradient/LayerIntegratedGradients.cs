using System;
using System.Collections.Generic;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Captum's <c>LayerIntegratedGradients</c>: integrated gradients in the space of one layer's output (or input):
/// with z(x) the layer's value, φ = (z(x) − z(b)) ⊙ Σ_t w_t ∂f/∂z at z(b) + α_t (z(x) − z(b)), the rest of the model
/// running on x. The explanation has one "input": the layer's value, [N, …].
/// </summary>
/// <remarks>
/// The layer is named as in <c>named_modules()</c> (as <c>[ExplainLayer]</c> names it), must take one tensor, and be
/// invoked with <c>.call</c> exactly once per forward pass. The hook stays on the layer until disposed. The attributions
/// add up to f(x) − f(b) (up to the rule's error) when the output depends on x only through the layer.
/// </remarks>
public sealed class LayerIntegratedGradients : GradientAttribution, IDisposable
{
    private readonly LayerHook _layer;

    /// <summary>Hooks <paramref name="layer"/> in <paramref name="model"/>.</summary>
    /// <param name="model">The model; its module is put in evaluation mode.</param>
    /// <param name="layer">The layer's path in <c>named_modules()</c>.</param>
    /// <param name="attributeToLayerInput">Attribute to the layer's input instead of its output (Captum's
    /// <c>attribute_to_layer_input</c>).</param>
    /// <param name="labels">Names of the model outputs, carried into explanations; or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages; or null.</param>
    /// <exception cref="ArgumentException">The model has no such layer, or it does not take one tensor.</exception>
    public LayerIntegratedGradients(ExplainableModel model, string layer, bool attributeToLayerInput = false,
                                    IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
        : base(model, labels, inputNames)
    {
        _layer = new LayerHook(model, layer, attributeToLayerInput, nameof(layer));
        AttributeToLayerInput = attributeToLayerInput;
    }

    /// <summary>The layer's path.</summary>
    public string Layer => _layer.Path;

    /// <summary>True when the layer's input is explained, false for its output.</summary>
    public bool AttributeToLayerInput { get; }

    /// <summary>Explains <paramref name="inputs"/> against <paramref name="baselines"/> in the layer's space.</summary>
    /// <param name="inputs">One batched tensor per model input.</param>
    /// <param name="baselines">Model-input baselines as for <see cref="IntegratedGradients"/> (null: zeros); their layer
    /// values are the path's start.</param>
    /// <param name="options">Steps, rule, target or ranking, batching; a noise tunnel is not supported.</param>
    /// <param name="cancellationToken">Checked before every batch and between the per-output backward passes.</param>
    /// <returns>An explanation with one input, the layer's value; the caller owns it.</returns>
    public Explanation Explain(Tensor[] inputs, Tensor[]? baselines = null, IntegratedGradientsOptions? options = null,
                               CancellationToken cancellationToken = default) =>
        Explain(inputs, baselines, options, false, out _, cancellationToken);

    /// <summary>As the other overload, and returns the convergence delta Σφ − (f(x) − f(b)), [N, k].</summary>
    /// <param name="inputs">One batched tensor per model input.</param>
    /// <param name="baselines">Model-input baselines (null: zeros).</param>
    /// <param name="options">Steps, rule, target or ranking, batching.</param>
    /// <param name="convergenceDelta">Receives the delta; the caller owns it.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>An explanation with one input, the layer's value; the caller owns it.</returns>
    public Explanation Explain(Tensor[] inputs, Tensor[]? baselines, IntegratedGradientsOptions? options, out Tensor convergenceDelta,
                               CancellationToken cancellationToken = default)
    {
        var result = Explain(inputs, baselines, options, true, out var delta, cancellationToken);
        convergenceDelta = delta!;
        return result;
    }

    /// <summary>Removes the hook from the layer.</summary>
    public void Dispose() => _layer.Dispose();

    private Explanation Explain(Tensor[] inputs, Tensor[]? baselines, IntegratedGradientsOptions? options, bool wantDelta, out Tensor? delta,
                                CancellationToken cancellationToken)
    {
        options ??= new IntegratedGradientsOptions();
        var (alphas, weights) = IntegrationRule.For(options.Method, options.NSteps);
        var method = new PathMethod(alphas, weights, Multiplier.InputMinusBaseline, false);
        return Run(method, inputs, baselines, options, wantDelta, out delta, cancellationToken, _layer);
    }
}
