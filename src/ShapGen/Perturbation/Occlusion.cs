using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Occlusion (Captum's <c>Occlusion</c>): a window slides over each input with the given strides; at each position the
/// window's elements take the baseline, and f(x) − f(x occluded) is added to every element the window covers. Each
/// element's attribution is the mean over the windows that cover it (Captum divides the sum by that count). Windows
/// that would overrun an edge are cut at it, as Captum's padding with negative amounts does; inputs are occluded one
/// at a time.
/// </summary>
/// <remarks>
/// Along a dimension of size d with window w and stride s there are ⌈(d − w)/s⌉ + 1 positions, at 0, s, 2s, …
/// All windows of all samples run in large batches through the shared batching (memory budget, out-of-memory halving,
/// cancellation, progress). The explanation's expected values are the mean over samples of f(baseline).
/// </remarks>
public sealed class Occlusion : PerturbationExplainer
{
    /// <summary>Creates the explainer.</summary>
    /// <param name="model">The model: a TorchSharp module, a delegate over batches, or an ONNX model's adapter.</param>
    /// <param name="labels">Names of the model outputs, one per output, or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages, or null.</param>
    public Occlusion(ExplainableModel model, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
        : base(model, labels, inputNames)
    {
    }

    /// <summary>Explains every row of <paramref name="inputs"/>: for each output and input, attributions shaped like the input batch.</summary>
    /// <param name="inputs">One tensor per model input, [N, …].</param>
    /// <param name="options">Window shapes (required), strides, baselines, ranked outputs, batching and progress.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public Explanation Explain(Tensor[] inputs, OcclusionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var scope = NewDisposeScope();
        var run = Start(inputs, options);
        var windows = Windows(run.SampleShapes, options);
        long n = run.SampleCount, perSample = windows.Sum(w => w.Offsets.Length);
        var first = new long[windows.Length]; // index of input i's first window among a sample's windows
        for (int i = 1; i < windows.Length; i++) first[i] = first[i - 1] + windows[i - 1].Offsets.Length;
        var outputs = run.Evaluate(n * perSample, (start, count) =>
        {
            var samples = new long[count];
            var owner = new int[count];
            var offsets = windows.Select(w => new long[count * w.Shape.Length]).ToArray();
            for (long r = 0; r < count; r++)
            {
                samples[r] = (start + r) / perSample;
                long p = (start + r) % perSample;
                int i = Array.FindLastIndex(first, f => f <= p);
                owner[r] = i;
                windows[i].Offsets[p - first[i]].CopyTo(offsets[i], r * windows[i].Shape.Length);
            }
            var ownerT = tensor(owner.Select(o => (long)o).ToArray(), int64).to(run.Device);
            var masks = new Tensor[windows.Length];
            for (int i = 0; i < windows.Length; i++)
                masks[i] = WindowMasks(windows[i], run.SampleShapes[i], offsets[i], count, run.Device).logical_and(ownerT.eq(i).unsqueeze(1));
            return (tensor(samples, int64).to(run.Device), masks);
        }, options, cancellationToken);
        long k = run.Fx.shape[1];
        var diff = run.Fx.unsqueeze(1) - outputs.view(n, perSample, k); // [N, P, K]
        var attributions = new Tensor[windows.Length];
        for (int i = 0; i < windows.Length; i++)
            attributions[i] = Average(diff.narrow(1, first[i], windows[i].Offsets.Length), windows[i], run.SampleShapes[i], n, k);
        return run.Finish(attributions, options);
    }

    /// <summary>A window shape and the offsets of its positions over one input, in Captum's order.</summary>
    private sealed record WindowSet(long[] Shape, long[][] Offsets);

    private static WindowSet[] Windows(long[][] sampleShapes, OcclusionOptions options)
    {
        var shapes = options.SlidingWindowShapes
            ?? throw new ArgumentException("OcclusionOptions.SlidingWindowShapes is required: one window shape per input (Captum's sliding_window_shapes).", nameof(options));
        if (shapes.Count != sampleShapes.Length)
            throw new ArgumentException($"SlidingWindowShapes has {shapes.Count} shape(s); the model takes {sampleShapes.Length} input(s).", nameof(options));
        if (options.Strides is { } given && given.Count != sampleShapes.Length)
            throw new ArgumentException($"Strides has {given.Count} entries; the model takes {sampleShapes.Length} input(s).", nameof(options));
        var sets = new WindowSet[sampleShapes.Length];
        for (int i = 0; i < sets.Length; i++)
        {
            long[] dims = sampleShapes[i];
            long[] window = shapes[i] ?? throw new ArgumentException($"SlidingWindowShapes[{i}] is null.", nameof(options));
            long[] stride = options.Strides?[i] ?? Enumerable.Repeat(1L, dims.Length).ToArray();
            if (window.Length != dims.Length)
                throw new ArgumentException(
                    $"SlidingWindowShapes[{i}] is {Shapes.Format(window)}; input {i}'s samples are {Shapes.Format(dims)}: give one window size per dimension.", nameof(options));
            if (stride.Length != dims.Length)
                throw new ArgumentException(
                    $"Strides[{i}] is {Shapes.Format(stride)}; input {i}'s samples are {Shapes.Format(dims)}: give one stride per dimension.", nameof(options));
            var counts = new long[dims.Length];
            for (int d = 0; d < dims.Length; d++)
            {
                if (window[d] < 1 || window[d] > dims[d])
                    throw new ArgumentException(
                        $"SlidingWindowShapes[{i}] is {Shapes.Format(window)}: dimension {d} must be between 1 and the input's {dims[d]}.", nameof(options));
                if (stride[d] < 1 || (window[d] < dims[d] && stride[d] > window[d]))
                    throw new ArgumentException(
                        $"Strides[{i}] is {Shapes.Format(stride)}: dimension {d} must be between 1 and the window's {window[d]}, " +
                        "so that every element is occluded.", nameof(options));
                counts[d] = (dims[d] - window[d] + stride[d] - 1) / stride[d] + 1;
            }
            long total = counts.Aggregate(1L, (a, b) => a * b);
            var offsets = new long[total][];
            for (long p = 0; p < total; p++)
            {
                var offset = new long[dims.Length];
                long rest = p;
                for (int d = dims.Length - 1; d >= 0; d--)
                {
                    offset[d] = rest % counts[d] * stride[d];
                    rest /= counts[d];
                }
                offsets[p] = offset;
            }
            sets[i] = new WindowSet(window, offsets);
        }
        return sets;
    }

    /// <summary>[count, D] bool: the elements inside each row's window (cut at the edges).</summary>
    private static Tensor WindowMasks(WindowSet set, long[] dims, long[] offsets, long count, Device device)
    {
        int rank = dims.Length;
        if (rank == 0) return ones(new[] { count, 1L }, @bool, device);
        var offset = tensor(offsets, new[] { count, (long)rank }, int64).to(device);
        Tensor? mask = null;
        for (int d = 0; d < rank; d++)
        {
            var position = arange(dims[d], int64, device).unsqueeze(0);
            var from = offset.narrow(1, d, 1);
            var inside = position.ge(from).logical_and(position.lt(from + set.Shape[d])); // [count, d_d]
            var view = new long[rank + 1];
            Array.Fill(view, 1L);
            view[0] = count;
            view[d + 1] = dims[d];
            inside = inside.view(view);
            mask = mask is null ? inside : mask.logical_and(inside);
        }
        return mask!.expand(new[] { count }.Concat(dims).ToArray()).reshape(count, -1);
    }

    /// <summary>Each element's mean of the differences of the windows covering it: [N, D, K].</summary>
    private static Tensor Average(Tensor diff, WindowSet set, long[] dims, long n, long k)
    {
        var sum = zeros(new[] { n }.Concat(dims).Append(k).ToArray(), float64, diff.device);
        var covered = zeros(dims, float64);
        var broadcast = new[] { n }.Concat(dims.Select(_ => 1L)).Append(k).ToArray();
        for (int p = 0; p < set.Offsets.Length; p++)
        {
            using var window = NewDisposeScope();
            Tensor region = sum, hits = covered;
            for (int d = 0; d < dims.Length; d++)
            {
                long from = set.Offsets[p][d], length = Math.Min(set.Shape[d], dims[d] - from);
                region = region.narrow(d + 1, from, length);
                hits = hits.narrow(d, from, length);
            }
            region.add_(diff.select(1, p).view(broadcast));
            hits.add_(1.0);
        }
        var counts = covered.to(diff.device).unsqueeze(0).unsqueeze(-1);
        return (sum / counts).reshape(n, -1, k);
    }
}
