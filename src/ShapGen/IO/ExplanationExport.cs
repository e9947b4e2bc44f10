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

    /// <summary>Writes an explanation as an .npz archive to a stream.</summary>
    public static void WriteNpz(Explanation explanation, Stream stream, ShapLayout layout, bool compress = false) =>
        Npz.Write(stream, ToArrays(explanation, layout), compress);
}
