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
    private const string Engine = nameof(KernelExplainer);
    private readonly ExplainableModel _model;
    private readonly Tensor[] _background; // [B, D_i] per input, owned
    private readonly long[][] _sampleShapes;
    private readonly ScalarType[] _inputTypes;
    private readonly IReadOnlyList<string>? _inputNames;
    private readonly double[] _fnull;
    private readonly Tensor _expected;
    private readonly Device _device;
    private bool _disposed;

    /// <summary>Creates the explainer and computes E[f(background)] (in batches, at once).</summary>
    /// <param name="model">The model: a TorchSharp module, a delegate over batches, or an ONNX model's adapter.</param>
    /// <param name="background">One tensor per model input, [B, …]: the values a masked feature takes (a constant
    /// image is one row). The explainer keeps its own copy.</param>
    /// <param name="labels">Names of the model outputs, one per output, or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages, or null.</param>
    public KernelExplainer(ExplainableModel model, Tensor[] background, IReadOnlyList<string>? labels = null,
                           IReadOnlyList<string>? inputNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        long rows;
        (rows, _device) = EngineChecks.Background(model, background, inputNames);
        _model = model;
        _inputNames = inputNames;
        _sampleShapes = InputValidation.SampleShapes(background);
        _inputTypes = background.Select(t => t.dtype).ToArray();
        using (var scope = NewDisposeScope())
        {
            var mean = ModelEvaluation.MeanOutput(Engine, background, (batch, _) => _model.Forward(batch), new ExplainOptions(), labels,
                                                  CancellationToken.None, out var outputType);
            _fnull = mean.cpu().data<double>().ToArray();
            EngineChecks.Labels(labels, _fnull.Length);
            _expected = mean.to_type(outputType).DetachFromDisposeScope();
        }
        _background = background.Select(b => b.detach().reshape(rows, -1).clone().DetachFromDisposeScope()).ToArray();
        Labels = labels;
    }

    /// <summary>Names of the model outputs, when given.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Number of model outputs K.</summary>
    public int OutputCount => _fnull.Length;

    /// <summary>Number of background rows B.</summary>
    public long BackgroundCount => _background[0].shape[0];

    /// <summary>
    /// E[f(background)] per model output, [K], in the model output's dtype on the model's device (in the model's own,
    /// identity, space); owned by the explainer.
    /// </summary>
    public Tensor ExpectedValues
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _expected;
        }
    }

    /// <summary>
    /// Explains every row of <paramref name="inputs"/>: for each model output and input, attributions shaped like
    /// the input batch. A grouped feature's value is spread evenly over its elements, so the elements of a sample
    /// add up to link(f(x)) − link(E f(background)); <see cref="ExplainFeatures"/> gives the per-feature values.
    /// </summary>
    /// <param name="inputs">One tensor per model input, [N, …] with the background's per-sample shapes.</param>
    /// <param name="options">nsamples, seed, l1_reg, link, feature groups, ranked outputs, batching and progress.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public Explanation Explain(Tensor[] inputs, KernelExplainOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= new KernelExplainOptions();
        EngineChecks.Options(options, OutputCount);
        var groups = options.FeatureGroups ?? KernelFeatureGroups.PerElement(_sampleShapes);
        var features = ExplainFeatures(inputs, options, cancellationToken);
        int n = features.SampleCount;
        var sizes = groups.GroupSizes();
        using var outer = NewDisposeScope();
        var linked = new double[n * OutputCount];
        for (int s = 0; s < n; s++)
            for (int o = 0; o < OutputCount; o++) linked[s * OutputCount + o] = features.ModelOutput(s, o);
        var order = OutputRanking.Select(tensor(linked, new long[] { n, OutputCount }, float64), options.RankedOutputs, options.OutputRankOrder);
        var outputOf = order.data<long>().ToArray();
        int k = (int)order.shape[1];
        var values = new Tensor[k][];
        for (int rank = 0; rank < k; rank++)
        {
            values[rank] = new Tensor[_sampleShapes.Length];
            for (int i = 0; i < _sampleShapes.Length; i++)
            {
                var map = groups.Map(i);
                var data = new double[n * map.Length];
                for (int s = 0; s < n; s++)
                {
                    int o = (int)outputOf[s * k + rank];
                    for (int e = 0; e < map.Length; e++)
                    {
                        int f = map[e];
                        data[s * map.Length + e] = f < 0 || sizes[f] == 0 ? 0 : features[s, o, f] / sizes[f];
                    }
                }
                var shape = new long[] { n }.Concat(_sampleShapes[i]).ToArray();
                values[rank][i] = tensor(data, shape, float64).to(inputs[i].dtype, inputs[i].device).MoveToOuterDisposeScope();
            }
        }
        var indexes = options.RankedOutputs is null ? null : order.to(_device).MoveToOuterDisposeScope();
        return new Explanation(values, _expected.clone().MoveToOuterDisposeScope(), null, indexes, Labels);
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
        EngineChecks.Options(options, OutputCount);
        long n = EngineChecks.Inputs(inputs, _sampleShapes, _inputTypes, _device, _inputNames);
        var groups = options.FeatureGroups ?? KernelFeatureGroups.PerElement(_sampleShapes);
        CheckGroups(groups);
        int m = groups.FeatureCount, k = _fnull.Length;
        var link = options.Link;
        var linkNull = _fnull.Select(v => Link(v, link)).ToArray();
        if (linkNull.Any(v => !double.IsFinite(v)))
            throw new ArgumentException(
                $"The logit link needs outputs in (0, 1); E[f(background)] = [{string.Join(", ", _fnull)}].", nameof(options));
        var draws = SampleDraws.For(options);
        cancellationToken.ThrowIfCancellationRequested();

        var values = new double[n, k, m];
        var outputs = new double[n, k];
        var evaluated = new int[n];
        var exact = new bool[n];
        long bRows = BackgroundCount;

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

        long rowsPerBatch = RowsPerBatch(options);
        long coalitionsPerBatch = Math.Max(1, rowsPerBatch / bRows);

        // f(x) for every sample, and which features vary from the background (shap's varying_groups).
        double[,] fx = EvaluateRows(inputs, n, options, cancellationToken);
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
        long total = 0, largest = 0;
        for (int s = 0; s < n; s++)
        {
            int mv = varying[s].Count(v => v);
            if (mv < 2) continue;
            long planned = KernelSampler.PlannedSamples(mv, options.NSamples);
            total += planned * bRows;
            largest = Math.Max(largest, planned);
        }
        CheckCoalitionTables(largest, m, k, options);
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
            var set = KernelSampler.Sample(vary.Length, options.NSamples, draws.RandomFor(DrawPurpose.Coalitions, s));
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
                var batchOptions = new ExplainOptions(options) { Progress = ProgressSlice.Of(options.Progress, before, bRows, total) };
                coalitionsPerBatch = Batching.Run(count, coalitionsPerBatch, (start, c) =>
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
                    EngineChecks.Output(output, c * bRows, k);
                    parts.Add(output.to_type(float64).reshape(c, bRows, k).mean(new long[] { 1 }).MoveToOuterDisposeScope());
                }, batchOptions, cancellationToken, Engine);
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

    /// <summary>Frees the explainer's copy of the background and its expected values.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _background) t.Dispose();
        _expected.Dispose();
    }

    internal static double Link(double value, KernelLink link) => link switch
    {
        KernelLink.Identity => value,
        KernelLink.Logit => Math.Log(value / (1 - value)),
        _ => throw new ArgumentOutOfRangeException(nameof(link), link, "Unknown link."),
    };

    private double[,] EvaluateRows(Tensor[] inputs, long n, ExplainOptions options, CancellationToken cancellationToken)
    {
        int k = _fnull.Length;
        var result = new double[n, k];
        // One row per forward: a matrix product's rounding depends on how many rows share it, and f(x) of a row must
        // not depend on which rows are explained with it (a data set split into shards gives bitwise the same values).
        // The cost is small beside the coalitions × background rows evaluated for every row.
        Batching.Run(n, 1, (start, c) =>
        {
            var output = _model.Forward(inputs.Select(t => t.narrow(0, start, c)).ToArray());
            EngineChecks.Output(output, c, k);
            EngineChecks.Finite(output, nameof(inputs), start, Labels);
            var data = output.to_type(float64).cpu().data<double>().ToArray();
            for (long r = 0; r < c; r++)
                for (int o = 0; o < k; o++) result[start + r, o] = data[r * k + o];
        }, new ExplainOptions(options) { Progress = null }, cancellationToken, Engine);
        return result;
    }

    /// <summary>Rows (coalitions × background rows) per model batch from the shared budget, measured on two background rows.</summary>
    private long RowsPerBatch(ExplainOptions options)
    {
        long probe = Math.Min(2, BackgroundCount);
        long bytes;
        using (no_grad())
            bytes = Batching.MeasureScopeBytes(() =>
                _model.Forward(_background.Select((b, i) => b.narrow(0, 0, probe).reshape(new[] { probe }.Concat(_sampleShapes[i]).ToArray())).ToArray()));
        // The masked copy of the inputs a batch builds, plus the model's activations with room for its transients.
        double bytesPerRow = _background.Sum(b => (double)b.shape[1] * b.ElementSize) + 2.0 * bytes / probe;
        return Batching.RowsPerBatch(bytesPerRow, _device, options, Engine);
    }

    /// <summary>
    /// Refuses, before any work, a coalition count whose host tables (masks, kernel weights, the regression's
    /// design matrix and targets) would not fit the memory budget: they are built whole for each sample.
    /// </summary>
    private static void CheckCoalitionTables(long coalitions, int features, int outputs, KernelExplainOptions options)
    {
        double bytesPerCoalition = 11.0 * features + 40.0 * outputs + 64;
        double need = coalitions * bytesPerCoalition;
        long budget = Batching.BudgetBytes(CPU, options);
        if (need > budget)
            throw new ArgumentOutOfRangeException(nameof(options.NSamples), options.NSamples,
                $"NSamples {(options.NSamples?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "auto")} means {coalitions} coalitions " +
                $"of {features} features per sample, whose tables need about {need / (1 << 20):F0} MiB; the memory budget is " +
                $"{budget / (1 << 20)} MiB (MemoryBudgetBytes, or a quarter of what the process may still allocate). Lower NSamples, " +
                "or group features (FeatureGroups, superpixels).");
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
                    $"a sample of it has {elements} (shape {Shapes.Format(_sampleShapes[i])}).", "options");
        }
    }
}
