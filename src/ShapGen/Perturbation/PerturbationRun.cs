using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// One call of a perturbation method: checked inputs and baselines flattened to [N, D_i], and the evaluation of
/// perturbed rows in batches through <see cref="Batching.Run"/>. A row is a sample index and, per input, a mask of
/// the elements that take the baseline. Rows 0..N−1 are the inputs themselves (f(x)), rows N..2N−1 the baselines
/// (f(baseline)); the method's own rows follow. Create and use it inside the caller's dispose scope.
/// </summary>
internal sealed class PerturbationRun
{
    private readonly ExplainableModel _model;
    private readonly string _engine;
    private readonly IReadOnlyList<string>? _labels;
    private readonly Tensor[] _flat;      // [N, D_i]
    private readonly Tensor[] _baselines; // [N, D_i]
    private long _rowsPerBatch;           // measured by the first Evaluate

    private PerturbationRun(string engine, ExplainableModel model, Tensor[] inputs, Tensor[] baselines, IReadOnlyList<string>? labels)
    {
        _engine = engine;
        _model = model;
        _labels = labels;
        SampleCount = inputs[0].shape[0];
        SampleShapes = InputValidation.SampleShapes(inputs);
        Sizes = SampleShapes.Select(s => s.Aggregate(1L, (a, b) => a * b)).ToArray();
        InputTypes = inputs.Select(t => t.dtype).ToArray();
        Device = inputs[0].device;
        _flat = inputs.Select(t => t.detach().reshape(SampleCount, -1)).ToArray();
        _baselines = baselines;
    }

    /// <summary>Explained samples N.</summary>
    public long SampleCount { get; }

    /// <summary>Per-sample shape of each input.</summary>
    public long[][] SampleShapes { get; }

    /// <summary>Elements per sample of each input, D_i.</summary>
    public long[] Sizes { get; }

    /// <summary>The inputs' dtypes.</summary>
    public ScalarType[] InputTypes { get; }

    /// <summary>The inputs' device.</summary>
    public Device Device { get; }

    /// <summary>f(x), [N, K] float64 (after <see cref="Evaluate"/>).</summary>
    public Tensor Fx { get; private set; } = null!;

    /// <summary>f(baseline), [N, K] float64 (after <see cref="Evaluate"/>).</summary>
    public Tensor Fb { get; private set; } = null!;

    /// <summary>The dtype of the model's outputs (after <see cref="Evaluate"/>).</summary>
    public ScalarType OutputType { get; private set; }

    /// <summary>Checks the inputs (count, shapes, dtype, device, finiteness) and the baselines, and resolves the baselines.</summary>
    public static PerturbationRun Start(string engine, ExplainableModel model, Tensor[] inputs, PerturbationOptions options,
                                        IReadOnlyList<string>? labels, IReadOnlyList<string>? inputNames)
    {
        ArgumentNullException.ThrowIfNull(model);
        long n = InputValidation.CheckBatch(inputs, nameof(inputs), model.InputCount, null, model.Device, inputNames);
        if (model.ParameterType is { } parameters)
            for (int i = 0; i < inputs.Length; i++)
                if (inputs[i].dtype != parameters)
                    throw new ArgumentException(
                        $"'inputs' {InputValidation.InputName(i, inputNames)} is {inputs[i].dtype} but the model's parameters are " +
                        $"{parameters}: convert the data (.to_type({parameters})) or the model (.to({inputs[i].dtype})).", nameof(inputs));
        ArgumentNullException.ThrowIfNull(options);
        if (options.Baselines is { } given && given.Count != inputs.Length)
            throw new ArgumentException($"'Baselines' has {given.Count} tensor(s); the model takes {inputs.Length} input(s): give one per input.", nameof(options));
        var baselines = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            baselines[i] = ResolveBaseline(inputs[i], n, i, options, inputNames);
        return new PerturbationRun(engine, model, inputs, baselines, labels);
    }

    private static Tensor ResolveBaseline(Tensor input, long n, int i, PerturbationOptions options, IReadOnlyList<string>? inputNames)
    {
        if (options.Baselines is null)
            return full_like(input, options.Baseline).reshape(n, -1);
        string what = $"'Baselines' {InputValidation.InputName(i, inputNames)}";
        var b = options.Baselines[i] ?? throw new ArgumentNullException(nameof(options), $"{what} is null.");
        if (b.IsInvalid) throw new ObjectDisposedException(nameof(options), $"{what} has been disposed.");
        if (!b.is_floating_point()) throw new ArgumentException($"{what} must be floating point; it is {b.dtype}.", nameof(options));
        if (b.device.ToString() != input.device.ToString())
            throw new ArgumentException($"{what} is on {b.device}; the inputs are on {input.device}.", nameof(options));
        var sample = input.shape.Skip(1).ToArray();
        bool scalar = b.dim() == 0, perSample = b.shape.SequenceEqual(sample), perBatch = b.shape.SequenceEqual(input.shape);
        if (!scalar && !perSample && !perBatch)
            throw new ArgumentException(
                $"{what} has shape {Shapes.Format(b.shape)}; expected one sample's shape {Shapes.Format(sample)}, the batch's " +
                $"{Shapes.Format(input.shape)}, or a 0-d scalar.", nameof(options));
        bool finite;
        using (NewDisposeScope()) finite = isfinite(b).all().item<bool>();
        if (!finite) throw new ArgumentException($"{what} contains NaN or infinite values.", nameof(options));
        return b.detach().to_type(input.dtype).expand(input.shape).reshape(n, -1);
    }

    /// <summary>
    /// Evaluates f(x), f(baseline) and <paramref name="rows"/> perturbed rows, in batches with cancellation, progress
    /// (in rows), out-of-memory halving and checks of every output. Returns the perturbed rows' outputs [rows, K]
    /// float64 and sets <see cref="Fx"/>, <see cref="Fb"/>.
    /// </summary>
    /// <param name="rows">Number of perturbed rows.</param>
    /// <param name="perturb">For rows (start, count) of the method's own rows: the sample index of each, [count] int64,
    /// and per input the mask [count, D_i] of the elements that take the baseline: bool, or floating point for soft
    /// masks (the baseline's weight w: x + w·(baseline − x)).</param>
    /// <param name="options">Batching, memory budget, progress, logger.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public Tensor Evaluate(long rows, Func<long, long, (Tensor Samples, Tensor[] Masks)> perturb, ExplainOptions options,
                           CancellationToken cancellationToken) =>
        EvaluateRows(rows, perturb, options, cancellationToken, ends: true);

    /// <summary>
    /// For a further round of rows of an adaptive method, after a first <c>Evaluate</c>: evaluates only the perturbed
    /// rows, with the batch size measured then; <see cref="Fx"/> and <see cref="Fb"/> are kept.
    /// </summary>
    /// <param name="rows">Number of perturbed rows.</param>
    /// <param name="perturb">As for the first call.</param>
    /// <param name="options">Batching, memory budget, progress, logger.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public Tensor EvaluateMore(long rows, Func<long, long, (Tensor Samples, Tensor[] Masks)> perturb, ExplainOptions options,
                               CancellationToken cancellationToken) =>
        EvaluateRows(rows, perturb, options, cancellationToken, ends: false);

    private Tensor EvaluateRows(long rows, Func<long, long, (Tensor Samples, Tensor[] Masks)> perturb, ExplainOptions options,
                                CancellationToken cancellationToken, bool ends)
    {
        using var noGrad = no_grad();
        long n = SampleCount;
        if (!ends && _rowsPerBatch == 0) throw new InvalidOperationException("EvaluateMore needs a first Evaluate.");
        long first = ends ? 2 * n : 0;
        long total = first + rows;
        if (ends)
        {
            long probe = Math.Min(n, 2);
            long bytes = Batching.MeasureScopeBytes(() => Forward(_flat.Select((t, i) => t.narrow(0, 0, probe).reshape(new[] { probe }.Concat(SampleShapes[i]).ToArray())).ToArray()));
            double inputBytes = Sizes.Select((d, i) => 3.0 * d * _flat[i].ElementSize).Sum();
            _rowsPerBatch = Batching.RowsPerBatch(2.0 * bytes / probe + inputBytes, Device, options, _engine);
        }
        long batch = _rowsPerBatch;
        if (total == 0) return zeros(new[] { 0L, Fx.shape[1] }, float64, Device);
        Tensor? all = null;
        Batching.Run(total, batch, (start, count) =>
        {
            var pieces = new List<(Tensor Samples, Tensor[] Masks)>();
            long end = start + count;
            for (long from = start; from < end;)
            {
                if (from < first)
                {
                    long to = Math.Min(end, from < n ? n : 2 * n);
                    bool baseline = from >= n;
                    long first = baseline ? from - n : from;
                    var samples = arange(first, first + (to - from), dtype: int64, device: Device);
                    pieces.Add((samples, Sizes.Select(d => full(new[] { to - from, d }, baseline, dtype: @bool, device: Device)).ToArray()));
                    from = to;
                }
                else
                {
                    pieces.Add(perturb(from - first, end - from));
                    from = end;
                }
            }
            var sampleIndex = pieces.Count == 1 ? pieces[0].Samples : cat(pieces.Select(p => p.Samples).ToArray(), 0);
            var inputs = new Tensor[_flat.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                var masks = pieces.Select(p => p.Masks[i]).ToArray();
                bool soft = masks.Any(m => m.dtype != ScalarType.Bool);
                var mask = masks.Length == 1 ? masks[0] : cat(soft ? masks.Select(m => m.to_type(_flat[i].dtype)).ToArray() : masks, 0);
                var x = _flat[i].index_select(0, sampleIndex);
                var b = _baselines[i].index_select(0, sampleIndex);
                var blended = soft ? x + (b - x) * mask.to_type(x.dtype) : where(mask, b, x);
                inputs[i] = blended.reshape(new[] { count }.Concat(SampleShapes[i]).ToArray());
            }
            var y = Forward(inputs);
            EngineChecks.Output(y, count, all?.shape[1] ?? (ends ? null : Fx.shape[1]));
            EngineChecks.Finite(y, ends && start < n ? nameof(inputs) : "perturbed inputs", start, _labels);
            if (all is null)
            {
                EngineChecks.Labels(_labels, y.shape[1]);
                OutputType = y.dtype;
                all = zeros(new[] { total, y.shape[1] }, float64, Device).MoveToOuterDisposeScope();
            }
            all.narrow(0, start, count).copy_(y.detach().to_type(float64));
        }, options, cancellationToken, _engine);
        if (!ends) return all!;
        EngineChecks.Options(options, all!.shape[1]);
        Fx = all.narrow(0, 0, n);
        Fb = all.narrow(0, n, n);
        return all.narrow(0, first, rows);
    }

    /// <summary>
    /// Builds the explanation from attributions [N, D_i, K] float64 per input: all outputs in model order, or each
    /// sample's ranked outputs; E = the mean over samples of f(baseline). The result leaves the caller's scope.
    /// </summary>
    public Explanation Finish(Tensor[] attributions, ExplainOptions options)
    {
        long n = SampleCount;
        var order = OutputRanking.Select(Fx, options.RankedOutputs, options.OutputRankOrder);
        int k = (int)order.shape[1];
        var values = new Tensor[k][];
        for (int r = 0; r < k; r++)
        {
            values[r] = new Tensor[attributions.Length];
            var pick = order.narrow(1, r, 1);
            for (int i = 0; i < attributions.Length; i++)
            {
                var index = pick.unsqueeze(1).expand(n, Sizes[i], 1);
                values[r][i] = attributions[i].gather(2, index).reshape(new[] { n }.Concat(SampleShapes[i]).ToArray())
                    .to_type(InputTypes[i]).contiguous().MoveToOuterDisposeScope();
            }
        }
        var expected = Fb.mean(new long[] { 0 }).to_type(OutputType).MoveToOuterDisposeScope();
        var indexes = options.RankedOutputs is null ? null : order.MoveToOuterDisposeScope();
        return new Explanation(values, expected, null, indexes, _labels);
    }

    /// <summary>
    /// Each input's element→feature map as an int64 tensor on the inputs' device, and the number of features, for
    /// <paramref name="groups"/> (one feature per element when null), checked against the model's inputs.
    /// </summary>
    public (Tensor[] Maps, long FeatureCount) FeatureMaps(KernelFeatureGroups? groups)
    {
        groups ??= KernelFeatureGroups.PerElement(SampleShapes);
        var maps = Enumerable.Range(0, _flat.Length).Select(i => tensor(CheckedMap(groups, i, "FeatureGroups"), int64).to(Device)).ToArray();
        return (maps, groups.FeatureCount);
    }

    /// <summary>
    /// Each input's element→feature map per sample, [N, D_i] int64 (Captum's <c>feature_mask</c> with a batch dimension):
    /// <paramref name="perSample"/> when given (one grouping per explained sample; the feature count is the largest, a
    /// sample's missing ids simply cover no element), else <paramref name="shared"/> for every sample.
    /// </summary>
    public (Tensor[] Maps, long FeatureCount) SampleFeatureMaps(KernelFeatureGroups? shared, IReadOnlyList<KernelFeatureGroups>? perSample)
    {
        long n = SampleCount;
        if (perSample is null)
        {
            var (maps, m) = FeatureMaps(shared);
            return (maps.Select(map => map.unsqueeze(0).expand(n, map.shape[0])).ToArray(), m);
        }
        if (shared is not null)
            throw new ArgumentException("Give FeatureGroups (one grouping for all samples) or SampleFeatureGroups (one per sample), not both.", "options");
        if (perSample.Count != n)
            throw new ArgumentException($"SampleFeatureGroups has {perSample.Count} grouping(s); {n} sample(s) are explained: give one per sample.", "options");
        var rows = new long[_flat.Length][];
        for (int i = 0; i < rows.Length; i++) rows[i] = new long[n * Sizes[i]];
        for (int s = 0; s < n; s++)
        {
            var groups = perSample[s] ?? throw new ArgumentNullException("options", $"SampleFeatureGroups[{s}] is null.");
            for (int i = 0; i < rows.Length; i++) CheckedMap(groups, i, $"SampleFeatureGroups[{s}]").CopyTo(rows[i], s * Sizes[i]);
        }
        return (rows.Select((r, i) => tensor(r, new[] { n, Sizes[i] }, int64).to(Device)).ToArray(), perSample.Max(g => g.FeatureCount));
    }

    private long[] CheckedMap(KernelFeatureGroups groups, int input, string what)
    {
        if (groups.InputCount != _flat.Length)
            throw new ArgumentException($"{what} covers {groups.InputCount} input(s); the model takes {_flat.Length}.", "options");
        var map = groups.Map(input);
        if (map.Length != Sizes[input])
            throw new ArgumentException(
                $"{what} maps {map.Length} element(s) of input {input}; one sample of it has {Sizes[input]} " +
                $"(shape {Shapes.Format(SampleShapes[input])}).", "options");
        return map.Select(f => (long)f).ToArray();
    }

    private Tensor Forward(Tensor[] inputs) => _model.Forward(inputs);
}
