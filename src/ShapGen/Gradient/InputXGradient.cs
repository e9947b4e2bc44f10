using System.Collections.Generic;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Captum's <c>InputXGradient</c>: x ⊙ ∂f/∂x for each explained output and input. For a linear model the
/// attributions add up to f(x) − f(0); the explanation's expected values are f(0).
/// </summary>
public sealed class InputXGradient : GradientAttribution
{
    /// <summary>Wraps <paramref name="model"/>.</summary>
    /// <param name="model">The model; its module, if any, is put in evaluation mode.</param>
    /// <param name="labels">Names of the model outputs (one per output), carried into explanations; or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages; or null.</param>
    public InputXGradient(ExplainableModel model, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
        : base(model, labels, inputNames)
    {
    }

    /// <summary>Explains <paramref name="inputs"/>: x ⊙ ∂f/∂x per explained output and input, shaped like the input's batch.</summary>
    /// <param name="inputs">One batched tensor per model input, on the model's device and in its dtype.</param>
    /// <param name="options">Target or ranking, noise tunnel, batching; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch and between the per-output backward passes.</param>
    /// <returns>An explanation the caller owns and must dispose.</returns>
    /// <exception cref="System.ArgumentException">An input or option is invalid; the message names it.</exception>
    /// <exception cref="System.InvalidOperationException">The model's output is detached from its inputs.</exception>
    /// <exception cref="System.OperationCanceledException">Cancelled; everything allocated is freed.</exception>
    public Explanation Explain(Tensor[] inputs, GradientMethodOptions? options = null, CancellationToken cancellationToken = default)
    {
        var method = new PathMethod(new[] { 1.0 }, new[] { 1.0 }, Multiplier.Input, false);
        return Run(method, inputs, null, options ?? new GradientMethodOptions(), false, out _, cancellationToken);
    }
}
