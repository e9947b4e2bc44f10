using System;
using System.Globalization;
using TorchSharp;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace ShapGen.Tests.Infrastructure;

/// <summary>Tensor comparisons whose failure says where and by how much the tensors differ.</summary>
public static class TensorAssert
{
    /// <summary>
    /// Passes when the shapes are equal and |actual − expected| ≤ atol + rtol·|expected| everywhere; otherwise
    /// fails naming the largest difference, its index and both values (or both shapes).
    /// </summary>
    public static void Close(Tensor expected, Tensor actual, double rtol = 1e-9, double atol = 1e-12, string? what = null)
    {
        string prefix = what is null ? "" : what + ": ";
        if (!expected.shape.AsSpan().SequenceEqual(actual.shape))
            throw new XunitException($"{prefix}shape {Shapes.Format(actual.shape)}, expected {Shapes.Format(expected.shape)}.");
        using var scope = NewDisposeScope();
        var e = expected.to_type(ScalarType.Float64).cpu().flatten();
        var a = actual.to_type(ScalarType.Float64).cpu().flatten();
        if (e.numel() == 0) return;
        var excess = (a - e).abs() - (e.abs() * rtol + atol);
        long worst = excess.argmax().item<long>();
        if (excess[worst].item<double>() <= 0 && !a.isnan().any().item<bool>()) return;
        if (a.isnan().any().item<bool>() && !e.isnan().any().item<bool>()) worst = a.isnan().to_type(ScalarType.Int8).argmax().item<long>();
        double ev = e[worst].item<double>(), av = a[worst].item<double>();
        throw new XunitException(
            $"{prefix}largest difference {(av - ev).ToString("G6", CultureInfo.InvariantCulture)} at flat index {worst}: " +
            $"actual {av.ToString("R", CultureInfo.InvariantCulture)}, expected {ev.ToString("R", CultureInfo.InvariantCulture)} " +
            $"(rtol {rtol.ToString(CultureInfo.InvariantCulture)}, atol {atol.ToString(CultureInfo.InvariantCulture)}).");
    }

    /// <summary>Passes when the tensors are bitwise equal (same shape, same dtype, same values); otherwise says where they differ.</summary>
    public static void Equal(Tensor expected, Tensor actual, string? what = null)
    {
        if (expected.dtype != actual.dtype)
            throw new XunitException($"{what}: dtype {actual.dtype}, expected {expected.dtype}.");
        Close(expected, actual, 0, 0, what);
    }
}
