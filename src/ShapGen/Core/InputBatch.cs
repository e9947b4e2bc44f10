using System;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// The base of each model's generated <c>Batch</c>: one tensor per <c>forward</c> parameter, [N, …per-sample shape],
/// checked when it is built. It does not own the tensors.
/// </summary>
public abstract class InputBatch
{
    private readonly Tensor[] _tensors;

    /// <summary>Checks every input's per-sample shape, dtype and batch size against the model's declaration.</summary>
    /// <param name="model">The model's declaration.</param>
    /// <param name="tensors">One tensor per input, in input order.</param>
    /// <exception cref="ArgumentException">A shape, dtype or batch size is wrong.</exception>
    protected InputBatch(ModelInfo model, params Tensor?[] tensors)
    {
        ArgumentNullException.ThrowIfNull(model);
        Count = model.CheckBatch(tensors);
        _tensors = tensors!;
    }

    /// <summary>Number of samples N.</summary>
    public long Count { get; }

    /// <summary>The tensors in input order, as the engines take them (a new array over the same tensors).</summary>
    public Tensor[] ToArray() => (Tensor[])_tensors.Clone();

    /// <summary>The tensor of input <paramref name="input"/> (0-based, in <c>forward</c>'s order).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The model has no such input.</exception>
    protected Tensor InputAt(int input) =>
        (uint)input < (uint)_tensors.Length
            ? _tensors[input]
            : throw new ArgumentOutOfRangeException(nameof(input), input, $"The model has {_tensors.Length} input(s): 0..{_tensors.Length - 1}.");
}
