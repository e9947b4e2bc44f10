using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>Which of shap's two result layouts an export follows (shap changed it in 0.45).</summary>
public enum ShapLayout
{
    /// <summary>
    /// shap ≥ 0.45: one array per input i, <c>values_{i}</c> shaped [N, …input shape, K] with the outputs last.
    /// </summary>
    PerInput,

    /// <summary>
    /// shap &lt; 0.45: a list per output of a list per input; array <c>values_{o}_{i}</c> is output o's attributions
    /// to input i, shaped [N, …input shape].
    /// </summary>
    LegacyPerOutput,
}

/// <summary>
/// Exports an <see cref="Explanation"/> to NumPy arrays in shap's layout, so that Python can
/// <c>numpy.load</c> them and compare side by side. See docs/plots-and-exports.md for the array names.
/// </summary>
public static class ExplanationExport
{
    /// <summary>
    /// Builds the named arrays of an explanation: the attributions in <paramref name="layout"/>,
    /// <c>expected_values</c> [K], and when present <c>variances…</c> (same layout as the values),
    /// <c>output_indexes</c> [N, k] int64 (ranked outputs) and <c>labels</c> (a NumPy unicode array);
    /// plus <c>layout</c>, a one-element unicode array naming the layout (<c>per_input</c> or <c>legacy_per_output</c>).
    /// Tensors are copied to the host; the explanation is not modified.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, NpyArray>> ToArrays(Explanation explanation, ShapLayout layout = ShapLayout.PerInput)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        var result = new List<KeyValuePair<string, NpyArray>>();
        void Add(string name, NpyArray array) => result.Add(new(name, array));
        switch (layout)
        {
            case ShapLayout.PerInput:
                for (int i = 0; i < explanation.InputCount; i++)
                {
                    using (var v = explanation.ToShapLayout(i)) Add($"values_{i}", NpyArray.FromTensor(v));
                    if (explanation.HasVariances)
                    {
                        using var s = stack(explanation.VariancesForInput(i).ToArray(), -1);
                        Add($"variances_{i}", NpyArray.FromTensor(s));
                    }
                }
                break;
            case ShapLayout.LegacyPerOutput:
                for (int o = 0; o < explanation.OutputCount; o++)
                    for (int i = 0; i < explanation.InputCount; i++)
                        Add($"values_{o}_{i}", NpyArray.FromTensor(explanation[o, i]));
                if (explanation.HasVariances)
                    for (int o = 0; o < explanation.OutputCount; o++)
                        for (int i = 0; i < explanation.InputCount; i++)
                            Add($"variances_{o}_{i}", NpyArray.FromTensor(explanation.Variance(o, i)));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown layout.");
        }
        Add("expected_values", NpyArray.FromTensor(explanation.ExpectedValues));
        if (explanation.OutputIndexes is not null)
        {
            using var idx = explanation.OutputIndexes.to_type(int64);
            Add("output_indexes", NpyArray.FromTensor(idx));
        }
        if (explanation.Labels is not null)
            Add("labels", NpyArray.FromStrings(explanation.Labels));
        Add("layout", NpyArray.FromStrings(new[] { layout == ShapLayout.PerInput ? "per_input" : "legacy_per_output" }));
        return result;
    }

    /// <summary>Writes an explanation to an .npz file (see <see cref="ToArrays"/> for the array names).</summary>
    /// <param name="explanation">The explanation (not disposed).</param>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="layout">shap's layout to follow; name it explicitly, as shap's changed in 0.45.</param>
    /// <param name="compress">True to deflate the entries (<c>savez_compressed</c>).</param>
    public static void SaveNpz(Explanation explanation, string path, ShapLayout layout, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        Npz.SaveArrays(path, ToArrays(explanation, layout), compress);
    }

    /// <summary>
    /// Reads an explanation written by <see cref="SaveNpz"/> (either layout, told by its <c>layout</c> array) back
    /// into a new <see cref="Explanation"/> of CPU tensors; the caller disposes it.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The file is not a valid .npz, lacks the arrays an exported explanation has, or its arrays do not fit together
    /// (dtypes, sample counts, shapes, output indexes, label count); the message names the array.
    /// </exception>
    public static Explanation LoadNpz(string path)
    {
        var arrays = Npz.LoadArrays(path);
        NpyArray Need(string name) => arrays.TryGetValue(name, out var a) ? a
            : throw new InvalidDataException($"'{path}' has no array '{name}': it was not written by ExplanationExport.SaveNpz.");
        Tensor Numbers(string name)
        {
            var a = Need(name);
            return NpyArray.HasTensorType(a.Descr) ? a.ToTensor()
                : throw new InvalidDataException($"'{path}': array '{name}' has dtype '{a.Descr}'; expected numbers.");
        }
        string[] Strings(string name)
        {
            var a = Need(name);
            return a.Descr.StartsWith("<U", StringComparison.Ordinal) && a.Shape.Length == 1 ? a.ToStrings()
                : throw new InvalidDataException($"'{path}': array '{name}' has dtype '{a.Descr}' and shape {Shapes.Format(a.Shape)}; expected a 1-d unicode array ('<U…').");
        }
        string layoutName = Strings("layout").FirstOrDefault() ?? "";
        var layout = layoutName switch
        {
            "per_input" => ShapLayout.PerInput,
            "legacy_per_output" => ShapLayout.LegacyPerOutput,
            _ => throw new InvalidDataException($"'{path}' names an unknown layout '{layoutName}'."),
        };
        using var scope = NewDisposeScope();
        Tensor[][] values;
        Tensor[][]? variances = null;
        if (layout == ShapLayout.PerInput)
        {
            int inputs = 0;
            while (arrays.ContainsKey($"values_{inputs}")) inputs++;
            if (inputs == 0) throw new InvalidDataException($"'{path}' has no 'values_0' array.");
            Tensor[][] Split(string prefix)
            {
                var perInput = Enumerable.Range(0, inputs).Select(i => Numbers($"{prefix}_{i}")).ToArray();
                for (int i = 0; i < inputs; i++)
                    if (perInput[i].dim() < 2 || perInput[i].shape[^1] != perInput[0].shape[^1] || perInput[i].shape[^1] == 0)
                        throw new InvalidDataException(
                            $"'{path}': array '{prefix}_{i}' has shape {Shapes.Format(perInput[i].shape)}; expected [N, …, K] with the " +
                            $"same K ≥ 1 outputs last in every input ('{prefix}_0' has {Shapes.Format(perInput[0].shape)}).");
                int outputs = (int)perInput[0].shape[^1];
                return Enumerable.Range(0, outputs)
                    .Select(o => perInput.Select(t => t.select(-1, o).contiguous()).ToArray()).ToArray();
            }
            values = Split("values");
            if (arrays.ContainsKey("variances_0")) variances = Split("variances");
        }
        else
        {
            int outputs = 0, inputs = 0;
            while (arrays.ContainsKey($"values_{outputs}_0")) outputs++;
            while (arrays.ContainsKey($"values_0_{inputs}")) inputs++;
            if (outputs == 0) throw new InvalidDataException($"'{path}' has no 'values_0_0' array.");
            Tensor[][] Read(string prefix) => Enumerable.Range(0, outputs)
                .Select(o => Enumerable.Range(0, inputs).Select(i => Numbers($"{prefix}_{o}_{i}")).ToArray()).ToArray();
            values = Read("values");
            if (arrays.ContainsKey("variances_0_0")) variances = Read("variances");
        }
        var expected = Numbers("expected_values");
        var indexes = arrays.ContainsKey("output_indexes") ? Numbers("output_indexes") : null;
        var labels = arrays.ContainsKey("labels") ? Strings("labels") : null;
        CheckConsistent(path, values, variances, expected, indexes, labels);
        foreach (var t in values.SelectMany(r => r)) t.MoveToOuterDisposeScope();
        if (variances is not null) foreach (var t in variances.SelectMany(r => r)) t.MoveToOuterDisposeScope();
        expected.MoveToOuterDisposeScope();
        indexes?.MoveToOuterDisposeScope();
        return new Explanation(values, expected, variances, indexes, labels);
    }

    /// <summary>The arrays of a file must form one explanation: a damaged or hand-edited file fails here, naming the array, not later.</summary>
    private static void CheckConsistent(string path, Tensor[][] values, Tensor[][]? variances, Tensor expected, Tensor? indexes, string[]? labels)
    {
        string Shape(Tensor t) => Shapes.Format(t.shape);
        long n = values[0][0].dim() == 0 ? -1 : values[0][0].shape[0];
        for (int o = 0; o < values.Length; o++)
            for (int i = 0; i < values[o].Length; i++)
            {
                var v = values[o][i];
                if (!v.is_floating_point() || v.dim() == 0 || v.shape[0] != n || !v.shape.SequenceEqual(values[0][i].shape))
                    throw new InvalidDataException(
                        $"'{path}': the attributions of output {o} to input {i} are {v.dtype} {Shape(v)}; expected floating point " +
                        $"[N, …] with the N = {n} samples and the shape {Shape(values[0][i])} of output 0's.");
                var s = variances?[o][i];
                if (s is not null && (!s.is_floating_point() || !s.shape.SequenceEqual(v.shape)))
                    throw new InvalidDataException(
                        $"'{path}': the variances of output {o} to input {i} are {s.dtype} {Shape(s)}; expected floating point {Shape(v)} like the attributions.");
            }
        if (!expected.is_floating_point() || expected.dim() != 1 || expected.shape[0] == 0)
            throw new InvalidDataException($"'{path}': 'expected_values' is {expected.dtype} {Shape(expected)}; expected floating point [K], one per model output.");
        long k = expected.shape[0];
        if (indexes is not null)
        {
            if (indexes.is_floating_point() || !indexes.shape.SequenceEqual(new[] { n, values.Length }))
                throw new InvalidDataException(
                    $"'{path}': 'output_indexes' is {indexes.dtype} {Shape(indexes)}; expected integers [{n}, {values.Length}] (samples × ranks).");
            using var outside = indexes.lt(0).logical_or(indexes.ge(k)).any();
            if (outside.item<bool>())
                throw new InvalidDataException($"'{path}': 'output_indexes' names an output outside 0..{k - 1} ('expected_values' has {k}).");
        }
        if (labels is not null && labels.Length != k)
            throw new InvalidDataException($"'{path}': 'labels' has {labels.Length} label(s); 'expected_values' has {k} model outputs.");
    }

    /// <summary>Writes an explanation as an .npz archive to a stream.</summary>
    public static void WriteNpz(Explanation explanation, Stream stream, ShapLayout layout, bool compress = false) =>
        Npz.Write(stream, ToArrays(explanation, layout), compress);
}
