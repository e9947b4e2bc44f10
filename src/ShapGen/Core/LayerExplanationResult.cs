using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// The base of a model's generated <c>LayerResult</c>: attributions to the input of an inner layer, per explained
/// output one tensor [N, …layer input shape]. Owns its tensors: dispose it.
/// </summary>
public abstract class LayerExplanationResult : ExplanationResult
{
    /// <summary>Wraps an engine explanation of a layer (taking ownership) and checks its per-sample shape when one is known.</summary>
    /// <param name="explanation">The engine's explanation.</param>
    /// <param name="layer">The layer path, for messages.</param>
    /// <param name="shape">The expected per-sample shape of the layer input, or null.</param>
    /// <exception cref="InvalidOperationException">The layer input's shape is not <paramref name="shape"/> (the explanation is disposed).</exception>
    protected LayerExplanationResult(Explanation explanation, string layer, IReadOnlyList<long>? shape) : base(explanation)
    {
        Layer = layer ?? throw new ArgumentNullException(nameof(layer));
        if (shape is null) return;
        var actual = explanation[0, 0].shape.Skip(1).ToArray();
        if (!actual.SequenceEqual(shape))
        {
            explanation.Dispose();
            throw new InvalidOperationException(
                $"Layer '{layer}' has per-sample input shape {Shapes.Format(actual)}; expected {Shapes.Format(shape)}.");
        }
    }

    /// <summary>The explained layer's path.</summary>
    public string Layer { get; }

    /// <summary>The attributions of model output <paramref name="output"/> to the layer input, [N, …layer shape].</summary>
    /// <exception cref="InvalidOperationException">The explanation is ranked: use <see cref="Rank"/>.</exception>
    public Tensor this[int output] => Explanation[OutputPosition(output), 0];

    /// <summary>
    /// With ranked outputs: the attributions at rank <paramref name="rank"/> (0 = first) to the layer input; for each
    /// sample, the output in <see cref="ExplanationResult.RankedIndexes"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The explanation is not ranked.</exception>
    public Tensor Rank(int rank) => Explanation[RankPosition(rank), 0];
}
