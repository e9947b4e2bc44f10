using System;

namespace ShapGen;

/// <summary>
/// A model's label enum in output order: the generated code fills it in so that a label maps to its output index
/// and back, whether the enum is generated (<c>Labels = new[] { … }</c>) or the user's own (<c>Labels = typeof(E)</c>).
/// </summary>
/// <typeparam name="TLabel">The label enum.</typeparam>
public sealed class OutputLabels<TLabel> where TLabel : struct, Enum
{
    private readonly TLabel[] _order;

    /// <summary>Lists the labels in output order.</summary>
    /// <param name="order">Label of output 0, 1, ….</param>
    public OutputLabels(params TLabel[] order)
    {
        ArgumentNullException.ThrowIfNull(order);
        _order = order;
    }

    /// <summary>Number of labelled outputs.</summary>
    public int Count => _order.Length;

    /// <summary>The label of model output <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The model has no such output.</exception>
    public TLabel this[long output] =>
        (ulong)output < (ulong)_order.Length
            ? _order[output]
            : throw new ArgumentOutOfRangeException(nameof(output), output, $"The model has {_order.Length} output(s): 0..{_order.Length - 1}.");

    /// <summary>The output index of <paramref name="label"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not one of the model's labels.</exception>
    public int IndexOf(TLabel label)
    {
        int index = Array.IndexOf(_order, label);
        return index >= 0
            ? index
            : throw new ArgumentOutOfRangeException(nameof(label), label,
                $"{label} is not a label of this model; its labels are {string.Join(", ", _order)}.");
    }

    /// <summary>Maps ranked output indexes ([N][k], as <see cref="Explanation.RankedIndexes"/> returns them) to labels.</summary>
    /// <param name="indexes">Output indexes per sample and rank, or null.</param>
    /// <returns>The labels, or null when <paramref name="indexes"/> is null.</returns>
    public TLabel[][]? Of(long[][]? indexes)
    {
        if (indexes is null) return null;
        var labels = new TLabel[indexes.Length][];
        for (int i = 0; i < indexes.Length; i++)
            labels[i] = Array.ConvertAll(indexes[i], output => this[output]);
        return labels;
    }
}
