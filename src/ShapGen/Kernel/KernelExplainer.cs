using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// KernelSHAP (shap's <c>KernelExplainer</c>): model-agnostic Shapley values estimated by a weighted linear
/// regression over coalitions of features, each masked feature taking the background's values (every background
/// row, outputs averaged). Features are single input elements or groups (superpixels, columns). With nsamples ≥
/// 2^M − 2 every coalition is enumerated and the values are exact.
/// </summary>
/// <remarks>
/// Masked inputs are built on the inputs' device, one gather and one <c>where</c> per batch, and the model runs on
/// batches of many coalitions × background rows; the regression is solved once for all outputs on the host.
/// An explainer is not safe for concurrent <see cref="Explain"/> calls; use one per thread (the model itself must
/// then tolerate concurrent forwards).
/// </remarks>
public sealed class KernelExplainer : IDisposable
{
    private readonly ExplainableModel _model;
    private readonly Tensor[] _background; // [B, D_i] per input, owned
    private readonly long[][] _sampleShapes;
    private readonly IReadOnlyList<string>? _inputNames;
    private readonly double[] _fnull;
    private readonly Device _device;
    private bool _disposed;

    /// <summary>Creates the explainer and evaluates the model once on the background.</summary>
    /// <param name="model">The model: a TorchSharp module, a delegate over batches, or an ONNX model's adapter.</param>
    /// <param name="background">One tensor per model input, [B, …]: the values a masked feature takes (a constant image is one row).</param>
    /// <param name="labels">Names of the model outputs, or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages, or null.</param>
    public KernelExplainer(ExplainableModel model, Tensor[] background, IReadOnlyList<string>? labels = null,
                           IReadOnlyList<string>? inputNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var device = model.Device;
        long rows = InputValidation.CheckBatch(background, nameof(background), model.InputCount, device: device, names: inputNames);
        _model = model;
        _inputNames = inputNames;
        _device = device ?? background[0].device;
        _sampleShapes = InputValidation.SampleShapes(background);
        _background = background.Select(b => b.detach().reshape(rows, -1).clone().DetachFromDisposeScope()).ToArray();

        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var sums = new List<Tensor>();
            int batch = DefaultBatchRows(null);
            for (long start = 0; start < rows; start += batch)
            {
                long n = Math.Min(batch, rows - start);
                var slice = background.Select(b => b.narrow(0, start, n)).ToArray();
                var output = _model.Forward(slice).to_type(float64);
                sums.Add(output.sum(new long[] { 0 }));
            }
            var mean = stack(sums.ToArray()).sum(new long[] { 0 }).to_type(float64).div((double)rows);
            _fnull = mean.cpu().data<double>().ToArray();
        }
        if (_fnull.Length == 0)
            throw new ArgumentException("The model returned no outputs on the background ([B, 0]).", nameof(model));
        if (_fnull.Any(v => !double.IsFinite(v)))
            throw new ArgumentException("The model's mean output on the background is NaN or infinite.", nameof(background));
        if (labels is not null && labels.Count != _fnull.Length)
            throw new ArgumentException($"labels has {labels.Count} names; the model has {_fnull.Length} outputs.", nameof(labels));
        Labels = labels;
    }

    /// <summary>Names of the model outputs, when given.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Number of model outputs K.</summary>
    public int OutputCount => _fnull.Length;

    /// <summary>Number of background rows B.</summary>
    public long BackgroundRows => _background[0].shape[0];

    /// <summary>E[f(background)] per model output, in the model's own (identity) space.</summary>
    public IReadOnlyList<double> ExpectedValues => _fnull;

    /// <summary>
    /// Explains every row of <paramref name="inputs"/>: for each model output and input, attributions shaped like
    /// the input batch. A grouped feature's value is spread evenly over its elements, so the elements of a sample
    /// add up to link(f(x)) − link(E f(background)); <see cref="ExplainFeatures"/> gives the per-feature values.
    /// </summary>
    /// <param name="inputs">One tensor per model input, [N, …] with the background's per-sample shapes.</param>
    /// <param name="options">nsamples, seed, l1_reg, link, feature groups, batching and progress.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public Explanation Explain(Tensor[] inputs, KernelExplainOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KernelExplainOptions();
        var groups = options.FeatureGroups ?? KernelFeatureGroups.PerElement(_sampleShapes);
        var features = ExplainFeatures(inputs, options, cancellationToken);
        int n = features.SampleCount, k = features.OutputCount;
        var sizes = groups.GroupSizes();
        var values = new Tensor[k][];
        for (int o = 0; o < k; o++)
        {
            values[o] = new Tensor[_sampleShapes.Length];
            for (int i = 0; i < _sampleShapes.Length; i++)
            {
                var map = groups.Map(i);
                var data = new double[n * map.Length];
                for (int s = 0; s < n; s++)
                    for (int e = 0; e < map.Length; e++)
                    {
                        int f = map[e];
                        data[s * map.Length + e] = f < 0 || sizes[f] == 0 ? 0 : features[s, o, f] / sizes[f];
                    }
                var shape = new long[] { n }.Concat(_sampleShapes[i]).ToArray();
                using var scope = NewDisposeScope();
                values[o][i] = tensor(data, shape, float64).to(inputs[i].dtype, inputs[i].device).MoveToOuterDisposeScope();
            }
        }
        var expected = tensor(features.ExpectedValues.ToArray(), float64);
        return new Explanation(values, expected, labels: Labels);
    }

    /// <summary>
    /// Explains every row of <paramref name="inputs"/> and returns the Shapley value of every feature (group) for
    /// every output, with the base value and the model outputs in the link's space.
    /// </summary>
    /// <param name="inputs">One tensor per model input, [N, …] with the background's per-sample shapes.</param>
    /// <param name="options">nsamples, seed, l1_reg, link, feature groups, batching and progress.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public KernelFeatureAttributions ExplainFeatures(Tensor[] inputs, KernelExplainOptions? options = null,
                                                     CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= new KernelExplainOptions();
        long n = InputValidation.CheckBatch(inputs, nameof(inputs), _model.InputCount, _sampleShapes, _model.Device, _inputNames);
        if (options.NSamples is < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.NSamples,
                $"KernelExplainOptions.NSamples must be ≥ 1 (or null for auto); it is {options.NSamples}.");
        if (options.MaxBatchRows is < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxBatchRows,
                $"KernelExplainOptions.MaxBatchRows must be ≥ 1 (or null); it is {options.MaxBatchRows}.");
        if (inputs.Any(t => t.device.ToString() != inputs[0].device.ToString()))
            throw new ArgumentException("Every input must be on the same device.", nameof(inputs));
        var groups = options.FeatureGroups ?? KernelFeatureGroups.PerElement(_sampleShapes);
        CheckGroups(groups);
        int m = groups.FeatureCount, k = _fnull.Length;
        var link = options.Link;
        var linkNull = _fnull.Select(v => Link(v, link)).ToArray();
        if (linkNull.Any(v => !double.IsFinite(v)))
            throw new ArgumentException(
                $"The logit link needs outputs in (0, 1); E[f(background)] = [{string.Join(", ", _fnull)}].", nameof(options));
        var random = options.Seed is long seed ? new Random(unchecked((int)(seed ^ (seed >> 32)))) : new Random();
        cancellationToken.ThrowIfCancellationRequested();

        var values = new double[n, k, m];
        var outputs = new double[n, k];
        var evaluated = new int[n];
        var exact = new bool[n];
        long bRows = BackgroundRows;
        int maxRows = options.MaxBatchRows ?? DefaultBatchRows(null);
        int coalitionsPerBatch = (int)Math.Max(1, maxRows / bRows);
        var dtype = inputs[0].dtype;

        using var callScope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = inputs[0].device;
        var featureIndex = new Tensor[inputs.Length];
        var background = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var map = groups.Map(i).Select(f => f < 0 ? (long)m : f).ToArray();
            featureIndex[i] = tensor(map, int64).to(device);
            background[i] = _background[i].to(inputs[i].dtype, device).alias();
        }

        // f(x) for every sample, and which features vary from the background (shap's varying_groups).
        double[,] fx = EvaluateRows(inputs, n, maxRows);
        var varying = new bool[n][];
        for (int s = 0; s < n; s++)
        {
            using var scope = NewDisposeScope();
            var counts = zeros(m + 1, float32, device);
            for (int i = 0; i < inputs.Length; i++)
            {
                var x = inputs[i][s].reshape(1, -1);
                var differs = background[i].ne(x).any(0L).to_type(float32);
                counts.index_add_(0, featureIndex[i], differs, 1);
            }
            varying[s] = counts.narrow(0, 0, m).gt(0).cpu().data<bool>().ToArray();
        }
        long total = 0;
        for (int s = 0; s < n; s++)
        {
            int mv = varying[s].Count(v => v);
            if (mv >= 2) total += KernelSampler.PlannedSamples(mv, options.NSamples) * bRows;
        }
        long done = 0;

        for (int s = 0; s < n; s++)
        {
            for (int o = 0; o < k; o++)
            {
                outputs[s, o] = Link(fx[s, o], link);
                if (!double.IsFinite(outputs[s, o]))
                    throw new ArgumentException(
                        $"Sample {s}, output {o}: the model gives {fx[s, o]}, which the {link} link maps to {outputs[s, o]}" +
                        (link == KernelLink.Logit ? "; the logit link needs outputs in (0, 1)." : "."), nameof(inputs));
            }
            var delta = new double[k];
            for (int o = 0; o < k; o++) delta[o] = outputs[s, o] - linkNull[o];
            int[] vary = Enumerable.Range(0, m).Where(j => varying[s][j]).ToArray();
            if (vary.Length == 0) { exact[s] = true; continue; }
            if (vary.Length == 1)
            {
                for (int o = 0; o < k; o++) values[s, o, vary[0]] = delta[o];
                exact[s] = true;
                continue;
            }
            var set = KernelSampler.Sample(vary.Length, options.NSamples, random);
            int count = set.Count;
            evaluated[s] = count;
            exact[s] = set.Exact;
            long planned = KernelSampler.PlannedSamples(vary.Length, options.NSamples) * bRows;

            // Full-width masks: non-varying features keep x (equal to every background row there anyway).
            var full = new byte[count * (m + 1)];
            Array.Fill(full, (byte)1);
            for (int r = 0; r < count; r++)
            {
                var mask = set.Masks[r];
                for (int j = 0; j < vary.Length; j++) full[r * (m + 1) + vary[j]] = mask[j];
            }

            var ey = new double[count, k];
            using (var sampleScope = NewDisposeScope())
            {
                var z = tensor(full, new long[] { count, m + 1 }, ScalarType.Byte).to(device).to_type(ScalarType.Bool);
                var xs = inputs.Select(t => t[s].reshape(1, 1, -1)).ToArray();
                var parts = new List<Tensor>();
                long before = done;
                // Batching.Run gives cancellation per batch, halving on out-of-memory and progress; its per-call
                // progress is shifted into this call's total, and the final Done == Total is reported once, below.
                var batchOptions = new ExplainOptions
                {
                    Log = options.Log,
                    Progress = options.Progress is null ? null : new OffsetProgress(options.Progress, before, bRows, total),
                };
                coalitionsPerBatch = (int)Batching.Run(count, coalitionsPerBatch, (start, c) =>
                {
                    var zb = z.narrow(0, start, c);
                    var masked = new Tensor[inputs.Length];
                    for (int i = 0; i < inputs.Length; i++)
                    {
                        var keep = zb.index_select(1, featureIndex[i]).unsqueeze(1);
                        var shape = new long[] { c * bRows }.Concat(_sampleShapes[i]).ToArray();
                        masked[i] = where(keep, xs[i], background[i].unsqueeze(0)).reshape(shape);
                    }
                    var output = _model.Forward(masked);
                    if (output.shape[1] != k)
                        throw new InvalidOperationException($"The model returned {output.shape[1]} outputs; it returned {k} on the background.");
                    parts.Add(output.to_type(float64).reshape(c, bRows, k).mean(new long[] { 1 }).MoveToOuterDisposeScope());
                }, batchOptions, cancellationToken, "KernelSHAP");
                done = before + (long)count * bRows;
                var all = cat(parts.ToArray(), 0).cpu().data<double>().ToArray();
                for (int r = 0; r < count; r++)
                    for (int o = 0; o < k; o++) ey[r, o] = all[r * k + o];
            }
            done += planned - (long)count * bRows; // sampling may stop short of the plan
            if (ey.Cast<double>().Any(v => !double.IsFinite(v)))
                throw new InvalidOperationException($"The model returned NaN or infinite outputs on masked versions of sample {s}.");

            var eyAdj = new double[count, k];
            for (int r = 0; r < count; r++)
                for (int o = 0; o < k; o++)
                {
                    double linked = Link(ey[r, o], link);
                    if (!double.IsFinite(linked))
                        throw new InvalidOperationException(
                            $"The logit link needs outputs in (0, 1); output {o} averaged {ey[r, o]} on a coalition of sample {s}.");
                    eyAdj[r, o] = linked - linkNull[o];
                }
            var phi = KernelSolver.Solve(set.Masks, set.Weights, eyAdj, delta, options.L1Reg, set.FractionEvaluated);
            for (int j = 0; j < vary.Length; j++)
                for (int o = 0; o < k; o++) values[s, o, vary[j]] = phi[j, o];
        }
        options.Progress?.Report(new ExplainProgress(total, total));
        return new KernelFeatureAttributions(values, outputs, linkNull, evaluated, exact);
    }

    /// <summary>Frees the explainer's copy of the background.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _background) t.Dispose();
    }

    internal static double Link(double value, KernelLink link) => link switch
    {
        KernelLink.Identity => value,
        KernelLink.Logit => Math.Log(value / (1 - value)),
        _ => throw new ArgumentOutOfRangeException(nameof(link), link, "Unknown link."),
    };

    private double[,] EvaluateRows(Tensor[] inputs, long n, int maxRows)
    {
        var result = new double[n, _fnull.Length];
        for (long start = 0; start < n; start += maxRows)
        {
            using var scope = NewDisposeScope();
            long c = Math.Min(maxRows, n - start);
            var output = _model.Forward(inputs.Select(t => t.narrow(0, start, c)).ToArray());
            if (output.shape[1] != _fnull.Length)
                throw new InvalidOperationException($"The model returned {output.shape[1]} outputs; it returned {_fnull.Length} on the background.");
            var data = output.to_type(float64).cpu().data<double>().ToArray();
            for (long r = 0; r < c; r++)
                for (int o = 0; o < _fnull.Length; o++) result[start + r, o] = data[r * _fnull.Length + o];
        }
        return result;
    }

    private void CheckGroups(KernelFeatureGroups groups)
    {
        if (groups.InputCount != _sampleShapes.Length)
            throw new ArgumentException(
                $"FeatureGroups covers {groups.InputCount} input(s); the model takes {_sampleShapes.Length}.", "options");
        for (int i = 0; i < _sampleShapes.Length; i++)
        {
            long elements = _sampleShapes[i].Aggregate(1L, (a, b) => a * b);
            if (groups.Map(i).Length != elements)
                throw new ArgumentException(
                    $"FeatureGroups maps {groups.Map(i).Length} elements of {InputValidation.InputName(i, _inputNames)}; " +
                    $"a sample of it has {elements} (shape {InputValidation.Format(_sampleShapes[i])}).", "options");
        }
    }

    private int DefaultBatchRows(int? requested)
    {
        if (requested is int r) return r;
        long elements = _sampleShapes?.Sum(s => s.Aggregate(1L, (a, b) => a * b)) ?? 1;
        // About 32 MB of masked input per batch: large enough to amortise a model call, small enough for any device.
        return (int)Math.Clamp((1L << 23) / Math.Max(1, elements), 256, 65536);
    }
}

/// <summary>Maps one sample's batch progress (coalitions done) onto the whole call's rows, never reporting the end.</summary>
internal sealed class OffsetProgress : IProgress<ExplainProgress>
{
    private readonly IProgress<ExplainProgress> _target;
    private readonly long _offset, _rowsPerUnit, _total;

    public OffsetProgress(IProgress<ExplainProgress> target, long offset, long rowsPerUnit, long total) =>
        (_target, _offset, _rowsPerUnit, _total) = (target, offset, rowsPerUnit, total);

    public void Report(ExplainProgress value)
    {
        long done = _offset + value.Done * _rowsPerUnit;
        if (done < _total) _target.Report(new ExplainProgress(done, _total));
    }
}
