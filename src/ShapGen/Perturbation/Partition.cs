using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// shap's Partition explainer: Owen values over a hierarchy of features (<see cref="PartitionTree"/>). Starting at the
/// root with f(baseline) and f(x), each node in a context (the features present from outside it) is split among its
/// children: every child gets its marginal contributions over the coalitions of its siblings, with Shapley weights,
/// and each (child, context) pair is explored in turn, the one with the largest weighted change first, until
/// <c>MaxEvals</c> model rows are spent; what is left on a node is shared among its features in proportion to their
/// number. With a binary hierarchy this is shap's <c>owen</c> recursion (each child in the context without and with its
/// sibling, half the weight each); with a flat hierarchy it gives exact Shapley values. The values add up to
/// f(x) − f(baseline) exactly (efficiency) whatever <c>MaxEvals</c>.
/// </summary>
/// <remarks>
/// The hierarchy is <see cref="PartitionOptions.Hierarchy"/> over the features of <see cref="PartitionOptions.FeatureGroups"/>
/// (a clustering, as shap takes for tabular data), or, when null, shap's image partition of a one-input model's sample
/// grid (split the larger of height and width at the midpoint, channels last). Removed features take the baseline
/// (shap's constant image masker) or, with <see cref="PartitionOptions.Blur"/>, the blurred input (shap's
/// <c>"blur(kx,ky)"</c> masker). The explanation gives each feature's value to every element of it; its
/// <see cref="Explanation.ToShapLayout"/> is shap's [N, …, K] layout. Ties in the exploration order are broken by
/// order of discovery (shap breaks them at random), so the result is deterministic.
/// </remarks>
public sealed class Partition : PerturbationExplainer
{
    /// <summary>Creates the explainer.</summary>
    /// <param name="model">The model: a TorchSharp module, a delegate over batches, or an ONNX model's adapter.</param>
    /// <param name="labels">Names of the model outputs, one per output, or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages, or null.</param>
    public Partition(ExplainableModel model, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
        : base(model, labels, inputNames)
    {
    }

    /// <summary>A set of nodes whose features are present, as a list sharing its tail with its parent's.</summary>
    private sealed record Context(int Node, Context? Rest);

    /// <summary>A node to split in a context: f with the context only (Low) and with the node too (High), and its weight.</summary>
    private sealed record Entry(Context? Present, double[] Low, double[] High, int Node, double Weight);

    /// <summary>Explains every row of <paramref name="inputs"/>: for each output and input, Owen values shaped like the input batch.</summary>
    /// <param name="inputs">One tensor per model input, [N, …].</param>
    /// <param name="options">MaxEvals, hierarchy, masker (baseline or blur), ranked outputs, batching and progress; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public Explanation Explain(Tensor[] inputs, PartitionOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PartitionOptions();
        using var scope = NewDisposeScope();
        var run = Start(inputs, options);
        if (options.Blur is { } blur)
        {
            var image = ImageGeometry.Of(run.SampleShapes, options.Layout, nameof(Partition));
            run = Start(inputs, new PartitionOptions(options) { Baselines = new[] { BoxBlur(inputs[0], image, blur.Kx, blur.Ky) } });
        }
        var (maps, m) = run.FeatureMaps(options.Hierarchy is null ? null : options.FeatureGroups);
        var tree = options.Hierarchy ?? ImageTree(run.SampleShapes, options.Layout);
        if (tree.FeatureCount != m)
            throw new ArgumentException(
                $"The hierarchy has {tree.FeatureCount} features; the {(options.FeatureGroups is null ? "inputs have" : "feature groups have")} {m}.", nameof(options));

        int n = (int)run.SampleCount;
        run.Evaluate(0, (_, _) => throw new InvalidOperationException("no rows"), options, cancellationToken);
        int k = (int)run.Fx.shape[1];
        var fx = Rows(run.Fx, n, k);
        var fb = Rows(run.Fb, n, k);
        var credit = new double[n][,];
        var queues = new PriorityQueue<Entry, (double, long)>[n];
        var spent = new long[n];
        long order = 0;
        for (int s = 0; s < n; s++)
        {
            credit[s] = new double[tree.NodeCount, k];
            queues[s] = new PriorityQueue<Entry, (double, long)>();
            queues[s].Enqueue(new Entry(null, fb[s], fx[s], tree.Root, 1.0), (0, order++));
        }

        while (queues.Any(q => q.Count > 0))
        {
            var expansions = new List<(int Sample, Entry Entry, int[] Children)>();
            var rows = new List<(int Sample, Context? Present, int[] Nodes)>();
            for (int s = 0; s < n; s++)
            {
                var queue = queues[s];
                if (spent[s] >= options.MaxEvals)
                {
                    while (queue.TryDequeue(out var rest, out _)) Credit(credit[s], rest);
                    continue;
                }
                long planned = 0;
                while (queue.Count > 0 && planned < options.BatchSize && spent[s] + planned < options.MaxEvals)
                {
                    var entry = queue.Dequeue();
                    var children = tree.Children(entry.Node).ToArray();
                    long cost = (1L << children.Length) - 2;
                    // A leaf ends its path; a node wider than two whose coalitions would overrun the budget keeps its share.
                    if (children.Length == 0 || (children.Length > 2 && spent[s] + planned + cost > options.MaxEvals))
                    {
                        Credit(credit[s], entry);
                        continue;
                    }
                    expansions.Add((s, entry, children));
                    for (int subset = 1; subset < (1 << children.Length) - 1; subset++)
                        rows.Add((s, entry.Present, Members(children, subset)));
                    planned += cost;
                }
                spent[s] += planned;
            }
            if (rows.Count == 0) continue;
            var outputs = run.EvaluateMore(rows.Count, (start, count) =>
            {
                var hidden = new bool[count * m];
                var samples = new long[count];
                for (long r = 0; r < count; r++)
                {
                    var (s, present, nodes) = rows[(int)(start + r)];
                    samples[r] = s;
                    var row = new Span<bool>(hidden, (int)(r * m), (int)m);
                    row.Fill(true);
                    for (var c = present; c is not null; c = c.Rest)
                        foreach (int f in tree.Leaves(c.Node)) row[f] = false;
                    foreach (int node in nodes)
                        foreach (int f in tree.Leaves(node)) row[f] = false;
                }
                var ablated = tensor(hidden, new[] { count, m }).to(run.Device);
                return (tensor(samples, int64).to(run.Device), maps.Select(map => ablated.index_select(1, map)).ToArray());
            }, options, cancellationToken);
            var values = outputs.cpu().contiguous().data<double>().ToArray();
            int next = 0;
            foreach (var (s, entry, children) in expansions)
            {
                int width = children.Length, full = (1 << width) - 1;
                var f = new double[full + 1][];
                f[0] = entry.Low;
                f[full] = entry.High;
                for (int subset = 1; subset < full; subset++, next++) f[subset] = values.AsSpan(next * k, k).ToArray();
                for (int j = 0; j < width; j++)
                    for (int subset = 0; subset < full; subset++)
                    {
                        if ((subset >> j & 1) == 1) continue;
                        double weight = entry.Weight * ShapleyWeight(width, BitOperations.PopCount((uint)subset));
                        var present = entry.Present;
                        foreach (int node in Members(children, subset)) present = new Context(node, present);
                        var low = f[subset];
                        var high = f[subset | 1 << j];
                        double change = 0;
                        for (int o = 0; o < k; o++) change = Math.Max(change, Math.Abs(high[o] - low[o]));
                        queues[s].Enqueue(new Entry(present, low, high, children[j], weight), (-change * weight, order++));
                    }
            }
        }

        // shap's lower_credit: what rests on a node goes to its children in proportion to their features.
        var phi = new double[(long)n * m * k];
        for (int s = 0; s < n; s++)
        {
            var c = credit[s];
            for (int node = tree.Root; node >= tree.FeatureCount; node--)
                foreach (int child in tree.Children(node))
                {
                    double share = (double)tree.Leaves(child).Count / tree.Leaves(node).Count;
                    for (int o = 0; o < k; o++) c[child, o] += c[node, o] * share;
                }
            for (int f = 0; f < m; f++)
                for (int o = 0; o < k; o++)
                    phi[((long)s * m + f) * k + o] = c[f, o];
        }
        var perFeature = tensor(phi, new[] { n, m, (long)k }, float64).to(run.Device);
        return run.Finish(maps.Select(map => perFeature.index_select(1, map)).ToArray(), options);
    }

    private static void Credit(double[,] credit, Entry entry)
    {
        for (int o = 0; o < entry.Low.Length; o++) credit[entry.Node, o] += (entry.High[o] - entry.Low[o]) * entry.Weight;
    }

    private static int[] Members(int[] children, int subset) =>
        Enumerable.Range(0, children.Length).Where(j => (subset >> j & 1) == 1).Select(j => children[j]).ToArray();

    /// <summary>|S|!(k − |S| − 1)!/k!: the Shapley weight of a coalition of <paramref name="size"/> of a child's k − 1 siblings.</summary>
    private static double ShapleyWeight(int k, int size)
    {
        double w = 1.0 / k;
        for (int i = 1; i <= size; i++) w *= (double)i / (k - i);
        return w;
    }

    private static double[][] Rows(Tensor t, int n, int k)
    {
        var flat = t.cpu().contiguous().data<double>().ToArray();
        return Enumerable.Range(0, n).Select(s => flat.AsSpan(s * k, k).ToArray()).ToArray();
    }

    /// <summary>shap's image partition over a one-input model's sample: height, width, then channels.</summary>
    private static PartitionTree ImageTree(long[][] sampleShapes, ImageLayout layout)
    {
        if (sampleShapes.Length != 1)
            throw new ArgumentException(
                $"Without a Hierarchy, Partition splits one input's grid; this model takes {sampleShapes.Length} inputs: give PartitionOptions.Hierarchy.", "options");
        var shape = sampleShapes[0];
        if (shape.Length == 0 || shape.Length > 3 || shape.Any(d => d == 0))
            throw new ArgumentException(
                $"Without a Hierarchy, Partition splits samples of 1 to 3 non-empty dimensions; the input's samples are {Shapes.Format(shape)}: give PartitionOptions.Hierarchy.", "options");
        if (shape.Aggregate(1L, (a, b) => a * b) > int.MaxValue / 4)
            throw new ArgumentException($"The input's samples {Shapes.Format(shape)} have too many elements for one hierarchy.", "options");
        if (shape.Length == 3 && layout == ImageLayout.ChannelsFirst)
            return PartitionTree.Grid(new[] { shape[1], shape[2], shape[0] }, (y, x, c) => (int)((c * shape[1] + y) * shape[2] + x));
        var widths = shape.Concat(Enumerable.Repeat(1L, 3 - shape.Length)).ToArray();
        return PartitionTree.Grid(widths, (a, b, c) => (int)((a * widths[1] + b) * widths[2] + c));
    }

    /// <summary>
    /// OpenCV's <c>blur(x, (kx, ky))</c> as shap's <c>"blur(kx,ky)"</c> masker applies it: the mean over a kx-wide,
    /// ky-tall window anchored at (kx/2, ky/2), borders reflected without repeating the edge (BORDER_REFLECT_101),
    /// per channel. Returns the blurred batch, shaped like <paramref name="input"/>.
    /// </summary>
    internal static Tensor BoxBlur(Tensor input, ImageGeometry image, int kx, int ky)
    {
        long n = input.shape[0], h = image.Height, w = image.Width, c = image.Channels;
        bool channelsFirst = image.Layout == ImageLayout.ChannelsFirst && image.HasChannels;
        var hwc = channelsFirst ? input.permute(0, 2, 3, 1) : input.reshape(n, h, w, c);
        var data = hwc.to_type(float64).cpu().contiguous().data<double>().ToArray();
        var across = new double[data.Length];
        var result = new double[data.Length];
        for (long s = 0; s < n; s++)
        {
            long b = s * h * w * c;
            for (long y = 0; y < h; y++)
                for (long x = 0; x < w; x++)
                    for (long ch = 0; ch < c; ch++)
                    {
                        double sum = 0;
                        for (long d = 0; d < kx; d++) sum += data[b + (y * w + Reflect101(x - kx / 2 + d, w)) * c + ch];
                        across[b + (y * w + x) * c + ch] = sum / kx;
                    }
            for (long y = 0; y < h; y++)
                for (long x = 0; x < w; x++)
                    for (long ch = 0; ch < c; ch++)
                    {
                        double sum = 0;
                        for (long d = 0; d < ky; d++) sum += across[b + (Reflect101(y - ky / 2 + d, h) * w + x) * c + ch];
                        result[b + (y * w + x) * c + ch] = sum / ky;
                    }
        }
        var blurred = tensor(result, new[] { n, h, w, c }, float64);
        var back = channelsFirst ? blurred.permute(0, 3, 1, 2) : blurred.reshape(input.shape);
        return back.to_type(input.dtype).contiguous().to(input.device);
    }

    /// <summary>OpenCV's BORDER_REFLECT_101 (…, 2, 1 | 0, 1, …, n − 1 | n − 2, …), repeated for windows wider than the image.</summary>
    private static long Reflect101(long i, long size)
    {
        if (size == 1) return 0;
        long period = 2 * (size - 1);
        i %= period;
        if (i < 0) i += period;
        return i < size ? i : period - i;
    }
}
