using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>Options of <see cref="ExplanationSummary"/>.</summary>
public sealed record ExplanationSummaryOptions
{
    /// <summary>How many features (or regions) to list per output and input, largest |attribution| first. Default 5.</summary>
    public int TopK { get; init; } = 5;

    /// <summary>
    /// When set, inputs with at least two per-sample dimensions are summarised by square regions of this many pixels a
    /// side over the last two dimensions (channels summed), instead of single features.
    /// </summary>
    public int? RegionSize { get; init; }

    /// <summary>Summarise only this sample; all samples when null.</summary>
    public int? Sample { get; init; }

    /// <summary>Names of the model inputs, for the headings.</summary>
    public IReadOnlyList<string>? InputNames { get; init; }

    /// <summary>Significant digits of the printed numbers. Default 4.</summary>
    public int Digits { get; init; } = 4;
}

/// <summary>
/// A plain-text summary of an explanation for a terminal: per sample and output, the expected value E[f], the sum of
/// the attributions and E[f] + sum (≈ f(x) by additivity), then per input the top features or regions by
/// |attribution| with their sign.
/// </summary>
public static class ExplanationSummary
{
    /// <summary>Formats the summary; the explanation is read, not modified.</summary>
    public static string Format(Explanation explanation, ExplanationSummaryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        options ??= new ExplanationSummaryOptions();
        if (options.TopK < 1) throw new ArgumentOutOfRangeException(nameof(options), options.TopK, "TopK must be at least 1.");
        if (options.RegionSize is < 1) throw new ArgumentOutOfRangeException(nameof(options), options.RegionSize, "RegionSize must be at least 1.");
        if (options.Digits is < 1 or > 17) throw new ArgumentOutOfRangeException(nameof(options), options.Digits, "Digits must be between 1 and 17.");
        int samples = (int)explanation.SampleCount;
        if (options.Sample is { } only && (only < 0 || only >= samples))
            throw new ArgumentOutOfRangeException(nameof(options), only, $"Sample must be between 0 and {samples - 1}.");

        double[] expected = ToHost(explanation.ExpectedValues);
        long[]? ranked = null;
        int k = explanation.OutputCount;
        if (explanation.OutputIndexes is { } idx)
        {
            using var scope = NewDisposeScope();
            ranked = idx.detach().cpu().to_type(int64).contiguous().data<long>().ToArray();
        }
        var values = new double[k][][];
        var shapes = new long[explanation.InputCount][];
        for (int i = 0; i < explanation.InputCount; i++) shapes[i] = explanation[0, i].shape.Skip(1).ToArray();
        for (int o = 0; o < k; o++)
        {
            values[o] = new double[explanation.InputCount][];
            for (int i = 0; i < explanation.InputCount; i++) values[o][i] = ToHost(explanation[o, i]);
        }

        string fmt = "G" + options.Digits.ToString(CultureInfo.InvariantCulture);
        string Num(double v) => v.ToString(fmt, CultureInfo.InvariantCulture);
        string Signed(double v) => (v >= 0 ? "+" : "") + Num(v);

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"Explanation: {samples} sample(s), {k} {(ranked is null ? "output(s)" : "ranked output(s)")}, {explanation.InputCount} input(s)");
        if (explanation.HasVariances) sb.Append(", with variances");
        sb.AppendLine();
        for (int n = 0; n < samples; n++)
        {
            if (options.Sample is { } s && s != n) continue;
            sb.AppendLine(CultureInfo.InvariantCulture, $"Sample {n}");
            for (int o = 0; o < k; o++)
            {
                long model = ranked is null ? o : ranked[n * k + o];
                double e = model >= 0 && model < expected.Length ? expected[model] : double.NaN;
                double total = 0;
                for (int i = 0; i < explanation.InputCount; i++)
                {
                    int per = values[o][i].Length / samples;
                    for (int j = 0; j < per; j++) total += values[o][i][n * per + j];
                }
                string head = ranked is null
                    ? $"output {o} '{explanation.LabelOf(model)}'"
                    : $"rank {o}: output {model} '{explanation.LabelOf(model)}'";
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"  {head}: E[f] = {Num(e)}, sum of attributions = {Signed(total)}, E[f] + sum = {Num(e + total)}");
                for (int i = 0; i < explanation.InputCount; i++)
                {
                    var shape = shapes[i];
                    int per = values[o][i].Length / samples;
                    var row = new ArraySegment<double>(values[o][i], n * per, per);
                    string name = InputValidation.InputName(i, options.InputNames);
                    bool regions = options.RegionSize is not null && shape.Length >= 2;
                    var (scores, where) = regions ? Regions(row, shape, options.RegionSize!.Value) : Features(row, shape);
                    var top = TopByMagnitude(scores, options.TopK).Select(j => (Value: scores[j], Where: where(j))).ToList();
                    string what = regions ? $"{options.RegionSize}x{options.RegionSize} regions" : "features";
                    sb.AppendLine(CultureInfo.InvariantCulture, $"    {name} {Shapes.Format(shape)}, top {top.Count} {what} by |attribution|:");
                    int width = top.Count == 0 ? 0 : top.Max(t => Signed(t.Value).Length);
                    foreach (var t in top)
                        sb.AppendLine(CultureInfo.InvariantCulture, $"      {Signed(t.Value).PadLeft(width)}  at {t.Where}");
                }
            }
        }
        return sb.ToString();
    }

    /// <summary>Indexes of the k largest |scores|, largest first, ties in index order (NaN last); formats nothing.</summary>
    private static int[] TopByMagnitude(double[] scores, int k) =>
        Enumerable.Range(0, scores.Length)
            .OrderByDescending(j => double.IsNaN(scores[j]) ? -1 : Math.Abs(scores[j]))
            .ThenBy(j => j)
            .Take(k)
            .ToArray();

    private static (double[] Scores, Func<int, string> Where) Features(ArraySegment<double> row, long[] shape)
    {
        string Where(int j)
        {
            var index = new long[shape.Length];
            long rest = j;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            return Shapes.Format(index);
        }
        return (row.ToArray(), Where);
    }

    private static (double[] Scores, Func<int, string> Where) Regions(ArraySegment<double> row, long[] shape, int size)
    {
        int h = (int)shape[^2], w = (int)shape[^1];
        int planes = row.Count / (h * w);
        int rowsOfRegions = (h + size - 1) / size, colsOfRegions = (w + size - 1) / size;
        var sums = new double[rowsOfRegions * colsOfRegions];
        for (int p = 0; p < planes; p++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    sums[y / size * colsOfRegions + x / size] += row[(p * h + y) * w + x];
        string Where(int j)
        {
            int y0 = j / colsOfRegions * size, x0 = j % colsOfRegions * size;
            return $"rows {y0}-{Math.Min(h, y0 + size) - 1}, cols {x0}-{Math.Min(w, x0 + size) - 1}";
        }
        return (sums, Where);
    }

    private static double[] ToHost(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().cpu().to_type(float64).contiguous().data<double>().ToArray();
    }
}
