using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Expected gradients (shap's <c>GradientExplainer</c>): for each explained sample x and each of nsamples draws, a
/// background row r and α ~ U(0, 1), the gradient of every explained output at r + α(x − r) times (x − r),
/// averaged. All samples and draws run in large batches; all outputs' gradients come from one forward pass.
/// </summary>
/// <remarks>
/// <para>With a <c>layer</c>, attributions are taken with respect to the input of that submodule (shap's
/// <c>(model, layer)</c> form): the background and the explained samples are passed through the model up to the
/// layer, and the layer input is replaced through a forward pre-hook. Unlike shap, the gradient is multiplied by
/// (x_layer − r_layer), not by the raw layer activation, so layer attributions add up to the output change;
/// <see cref="GradientExplainOptions.LayerRule"/> = <see cref="LayerAttributionRule.ShapActivation"/> gives shap's
/// numbers instead, and <see cref="GradientExplainOptions.Draws"/> replays shap's draws.</para>
/// <para>The constructor puts the module in evaluation mode (as shap does). One explainer may be used by one thread
/// at a time; several explainers on one model may run on different threads.</para>
/// </remarks>
public sealed class GradientExplainer : IDisposable
{
    private const string Engine = nameof(GradientExplainer);
    private readonly ExplainableModel _model;
    private readonly Tensor[] _background;        // aliases of the caller's background, model inputs
    private readonly long[][] _inputShapes;
    private readonly ScalarType[] _inputTypes;
    private readonly Device _device;
    private readonly IReadOnlyList<string>? _inputNames;
    private readonly string? _layerPath;
    private readonly nn.Module<Tensor, Tensor>? _layer;
    private readonly nn.Module<Tensor, Tensor>.HookRemover? _hook;
    private readonly ThreadLocal<LayerState?> _layerState = new();
    private readonly object _backgroundLock = new();
    private readonly ScalarType _outputType;
    private Tensor[]? _explainedBackground; // what draws interpolate: the inputs, or the layer inputs (lazy)
    private Tensor? _expected;              // E[f(background)], [K] (lazy)
    private bool _disposed;

    /// <summary>
    /// Creates an explainer. It runs the model on one background row to learn the output count and the explained
    /// shapes; E[f(background)] (and, with a layer, the background's layer inputs) are computed lazily, in batches,
    /// at the first <see cref="Explain"/> or the first read of <see cref="ExpectedValues"/>.
    /// </summary>
    /// <param name="model">The model. Its module, if any, is put in evaluation mode.</param>
    /// <param name="background">One batched tensor per model input, all with the same number of rows (shap's
    /// <c>data</c>); on the model's device. The explainer keeps aliases (the caller may dispose its own handles, but
    /// must not modify the data in place while the explainer lives).</param>
    /// <param name="layer">Explain the input of this submodule, named as in <c>named_modules()</c> (e.g.
    /// <c>"features.7"</c>, or a field name); null explains the model inputs. The submodule must take one tensor and
    /// be invoked with <c>.call</c> exactly once per forward pass.</param>
    /// <param name="labels">Names of the model outputs, one per output, carried into explanations.</param>
    /// <param name="inputNames">Names of the model inputs, used in error messages.</param>
    /// <exception cref="ArgumentException">The background, the labels or the layer is invalid; the message says why.</exception>
    public GradientExplainer(ExplainableModel model, Tensor[] background, string? layer = null,
                             IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _inputNames = inputNames;
        (BackgroundCount, _device) = EngineChecks.Background(model, background, inputNames);
        _inputShapes = InputValidation.SampleShapes(background);
        _inputTypes = background.Select(t => t.dtype).ToArray();
        model.Module?.eval();

        if (layer is not null)
        {
            _layerPath = layer;
            var found = model.TryFindLayer(layer) ?? throw new ArgumentException(model.LayerNotFound(layer), nameof(layer));
            _layer = found as nn.Module<Tensor, Tensor>
                ?? throw new ArgumentException(
                    $"Layer '{layer}' is a {found.GetType().Name}; layer explanation needs a submodule that takes one tensor " +
                    "(nn.Module<Tensor, Tensor>).", nameof(layer));
            _hook = _layer.register_forward_pre_hook(PreHook);
        }

        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var y = Forward(background.Select(t => t.narrow(0, 0, 1)).ToArray(), null, out var captured);
            EngineChecks.Output(y, 1, null);
            OutputCount = (int)y.shape[1];
            _outputType = y.dtype;
            EngineChecks.Labels(labels, OutputCount);
            ExplainedShapes = captured is null ? _inputShapes : new[] { captured.shape.Skip(1).ToArray() };
            _background = background.Select(t => t.alias().DetachFromDisposeScope()).ToArray();
        }
        catch
        {
            _hook?.remove();
            throw;
        }
        Labels = labels;
    }

    /// <summary>
    /// E[f(background)] per model output, [K], in the model output's dtype; owned by the explainer. Computed at the
    /// first read or the first <see cref="Explain"/>, whichever comes first.
    /// </summary>
    public Tensor ExpectedValues
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return EnsureBackground(new ExplainOptions(), CancellationToken.None);
        }
    }

    /// <summary>Number of model outputs K.</summary>
    public int OutputCount { get; }

    /// <summary>Number of background rows.</summary>
    public long BackgroundCount { get; }

    /// <summary>Names of the model outputs, when given.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Per-sample shapes of what is explained: the model inputs, or (with a layer) the one layer input.</summary>
    public IReadOnlyList<long[]> ExplainedShapes { get; }

    /// <summary>Per-sample shapes of the model inputs, as given by the background.</summary>
    public IReadOnlyList<long[]> InputShapes => _inputShapes;

    /// <summary>The explained layer's path, or null when the model inputs are explained.</summary>
    public string? Layer => _layerPath;

    /// <summary>
    /// Explains <paramref name="inputs"/>: for each explained output (all, or each sample's top
    /// <see cref="ExplainOptions.RankedOutputs"/>) and each explained input, attributions shaped like that input's batch.
    /// </summary>
    /// <param name="inputs">One batched tensor per model input, with the background's per-sample shapes, dtypes and device.</param>
    /// <param name="options">Draws, seed, ranking, smoothing, variances, batching; null uses the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch and between the per-output backward passes.</param>
    /// <returns>An explanation the caller owns and must dispose. In layer mode it has exactly one input: the layer input.</returns>
    /// <exception cref="ArgumentException">An input is invalid; the message names it, the expected and the actual value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the exception names it.</exception>
    /// <exception cref="InvalidOperationException">The model's output is detached from its inputs (see docs).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; everything allocated is freed.</exception>
    public Explanation Explain(Tensor[] inputs, GradientExplainOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= new GradientExplainOptions();
        EngineChecks.Options(options, OutputCount);
        long n = EngineChecks.Inputs(inputs, _inputShapes, _inputTypes, _device, _inputNames);
        options.Draws?.Check(options.SampleIndexOffset, n, options.NSamples, BackgroundCount);
        cancellationToken.ThrowIfCancellationRequested();

        int samples = options.NSamples;
        bool ranked = options.RankedOutputs is not null;
        int k = options.RankedOutputs ?? OutputCount;
        var mode = options.OutputMode == GradientOutputMode.Replicate ? GradientOutputMode.Replicate : GradientOutputMode.RetainGraph;
        long total = n * samples;
        long pending = _expected is null ? BackgroundCount : 0;

        using var outer = NewDisposeScope();
        var expected = EnsureBackground(
            new ExplainOptions(options) { Progress = ProgressSlice.Of(options.Progress, 0, 1, pending + total) }, cancellationToken);
        var (fx, layerInputs) = Evaluate(inputs, n, captureLayer: _layer is not null, options, cancellationToken);
        var explained = layerInputs is null ? inputs : new[] { layerInputs };
        Tensor? outputIndexes = ranked ? OutputRanking.Select(fx, k, options.OutputRankOrder) : null;

        int m = explained.Length;
        var mean = new Tensor[k][];
        var m2 = options.ReturnVariances ? new Tensor[k][] : null;
        for (int j = 0; j < k; j++)
        {
            mean[j] = explained.Select(t => zeros(t.shape, dtype: t.dtype, device: _device)).ToArray();
            if (m2 is not null) m2[j] = explained.Select(t => zeros(t.shape, dtype: t.dtype, device: _device)).ToArray();
        }

        bool shapLayer = _layer is not null && options.LayerRule == LayerAttributionRule.ShapActivation;
        var plan = new DrawPlan(inputs, explained, _explainedBackground!, samples, k, ranked, outputIndexes, SampleDraws.For(options),
                                options.Draws, options.SampleIndexOffset, shapLayer, options.LocalSmoothing, options.ReturnVariances, mode, fx, expected, cancellationToken);
        double bytesPerRow = EstimateBytesPerRow(plan);
        long rows = Batching.RowsPerBatch(bytesPerRow * (mode == GradientOutputMode.Replicate ? k : 1), _device, options, Engine);
        if (rows >= samples) rows = rows / samples * samples;
        var batchOptions = new ExplainOptions(options) { Progress = ProgressSlice.Of(options.Progress, pending, 1, pending + total, isLast: true) };
        Batching.Run(total, rows, (start, count) => RunBatch(plan, start, count, mean, m2), batchOptions, cancellationToken, Engine);

        var values = new Tensor[k][];
        Tensor[][]? variances = m2 is null ? null : new Tensor[k][];
        for (int j = 0; j < k; j++)
        {
            values[j] = mean[j].Select(t => t.MoveToOuterDisposeScope()).ToArray();
            if (variances is not null)
                variances[j] = m2![j].Select(t => t.div((double)samples * samples).MoveToOuterDisposeScope()).ToArray();
        }
        outputIndexes?.MoveToOuterDisposeScope();
        return new Explanation(values, expected.clone().MoveToOuterDisposeScope(), variances, outputIndexes, Labels);
    }

    /// <summary>Removes the layer hook and frees the explainer's tensors (never the caller's).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _hook?.remove();
        foreach (var t in _background) t.Dispose();
        if (_explainedBackground is not null && !ReferenceEquals(_explainedBackground, _background))
            foreach (var t in _explainedBackground) t.Dispose();
        _expected?.Dispose();
        _layerState.Dispose();
    }

    /// <summary>Computes E[f(background)] and the background's layer inputs once, batched, with the call's options.</summary>
    private Tensor EnsureBackground(ExplainOptions options, CancellationToken cancellationToken)
    {
        lock (_backgroundLock)
        {
            if (_expected is not null) return _expected;
            using var scope = NewDisposeScope();
            var layerInputs = new List<Tensor>();
            try
            {
                var mean = ModelEvaluation.MeanOutput(Engine, _background, (batch, start) =>
                {
                    var y = Forward(batch, null, out var captured);
                    if (_layer is not null && start >= 0) layerInputs.Add(captured!.clone().DetachFromDisposeScope());
                    return y;
                }, options, Labels, cancellationToken, out _);
                if (mean.shape[0] != OutputCount)
                    throw new InvalidOperationException(
                        $"The model returned {mean.shape[0]} outputs on the background; it returned {OutputCount} on its first row.");
                _explainedBackground = _layer is null
                    ? _background
                    : new[] { (layerInputs.Count == 1 ? layerInputs[0].clone() : cat(layerInputs, 0)).DetachFromDisposeScope() };
                _expected = mean.to_type(_outputType).DetachFromDisposeScope();
                return _expected;
            }
            finally
            {
                foreach (var t in layerInputs) t.Dispose();
            }
        }
    }

    // ---- model evaluation ------------------------------------------------------------------------------------

    private sealed class LayerState
    {
        public Tensor? Replacement;
        public Tensor? Captured;
        public int Calls;
    }

    private Tensor PreHook(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        var state = _layerState.Value;
        if (state is null) return null!; // another thread's forward, or not explaining: leave the input alone
        state.Calls++;
        if (state.Calls > 1) return null!;
        if (state.Replacement is null)
        {
            state.Captured = input.detach();
            return null!;
        }
        if (!input.shape.SequenceEqual(state.Replacement.shape))
            throw new InvalidOperationException(
                $"Layer '{_layerPath}' received input of shape {Shapes.Format(input.shape)} but the explainer " +
                $"expected {Shapes.Format(state.Replacement.shape)}: the per-sample shape of the layer input must not depend on the batch.");
        return state.Replacement.alias();
    }

    /// <summary>Runs the model; in layer mode captures (replacement null) or replaces the layer input.</summary>
    private Tensor Forward(Tensor[] modelInputs, Tensor? replacement, out Tensor? captured)
    {
        captured = null;
        if (_layer is null)
            return _model.Forward(modelInputs);
        var state = new LayerState { Replacement = replacement };
        _layerState.Value = state;
        Tensor y;
        try { y = _model.Forward(modelInputs); }
        finally { _layerState.Value = null; }
        if (state.Calls != 1)
            throw new InvalidOperationException(state.Calls == 0
                ? $"Layer '{_layerPath}' was not invoked during the forward pass. Hooks fire only when a child is invoked " +
                  "with .call(x), not .forward(x); call it with .call."
                : $"Layer '{_layerPath}' was invoked {state.Calls} times in one forward pass; layer explanation needs exactly one call.");
        captured = state.Captured;
        return y;
    }

    /// <summary>Evaluates the model without gradients in batches: outputs [n, K] and, in layer mode, the layer inputs.</summary>
    private (Tensor Outputs, Tensor? LayerInputs) Evaluate(Tensor[] inputs, long n, bool captureLayer, ExplainOptions options,
                                                            CancellationToken cancellationToken)
    {
        using var noGrad = no_grad();
        var outputs = new List<Tensor>();
        var layerInputs = new List<Tensor>();
        long probeRows = Math.Min(n, 8);
        long bytes = Batching.MeasurePeakBytes(_device, () => Forward(inputs.Select(t => t.narrow(0, 0, probeRows)).ToArray(), null, out _));
        long rows = Batching.RowsPerBatch(2.0 * bytes / probeRows, _device, options, Engine);
        Batching.Run(n, rows, (start, count) =>
        {
            var batch = inputs.Select(t => t.narrow(0, start, count)).ToArray();
            var y = Forward(batch, null, out var captured);
            EngineChecks.Output(y, count, OutputCount);
            EngineChecks.Finite(y, nameof(inputs), start, Labels);
            outputs.Add(y.detach().clone().MoveToOuterDisposeScope());
            if (captureLayer) layerInputs.Add(captured!.clone().MoveToOuterDisposeScope());
        }, new ExplainOptions(options) { Progress = null }, cancellationToken, Engine);
        var all = outputs.Count == 1 ? outputs[0] : cat(outputs, 0);
        var layerAll = !captureLayer ? null : layerInputs.Count == 1 ? layerInputs[0] : cat(layerInputs, 0);
        return (all, layerAll);
    }

    // ---- the draws -------------------------------------------------------------------------------------------

    /// <summary>Noise is drawn in chunks of this many draws per (input, sample), each chunk from its own seeded stream,
    /// so a batch draws only the chunks it overlaps whatever NSamples is.</summary>
    private const long NoiseChunk = 64;

    private sealed record DrawPlan(Tensor[] Inputs, Tensor[] Explained, Tensor[] Background, int Samples, int K, bool Ranked,
                                   Tensor? OutputIndexes, SampleDraws Draws, GradientDraws? GivenDraws, long FirstSample, bool ShapLayer,
                                   double Sigma, bool Variances,
                                   GradientOutputMode Mode, Tensor Fx, Tensor Expected, CancellationToken Cancellation);

    /// <summary>A run of rows in a batch: <c>Count</c> samples from <c>FirstSample</c>, <c>Draws</c> consecutive
    /// draws each starting at draw <c>Before</c> (the draws already accumulated in earlier batches).</summary>
    private readonly record struct Block(long Offset, long FirstSample, long Count, long Draws, long Before);

    private static List<Block> Blocks(long start, long count, int samples)
    {
        var blocks = new List<Block>(3);
        long offset = 0, position = start, end = start + count;
        if (position % samples != 0)
        {
            long before = position % samples;
            long draws = Math.Min(samples - before, end - position);
            blocks.Add(new Block(offset, position / samples, 1, draws, before));
            offset += draws; position += draws;
        }
        long whole = (end - position) / samples;
        if (whole > 0)
        {
            blocks.Add(new Block(offset, position / samples, whole, samples, 0));
            offset += whole * samples; position += whole * samples;
        }
        if (position < end)
            blocks.Add(new Block(offset, position / samples, 1, end - position, 0));
        return blocks;
    }

    private Tensor SampleIndex(List<Block> blocks)
    {
        var parts = blocks.Select(b => arange(b.FirstSample, b.FirstSample + b.Count, dtype: int64, device: _device)
                                        .repeat_interleave(b.Draws)).ToArray();
        return parts.Length == 1 ? parts[0] : cat(parts, 0);
    }

    /// <summary>The background row and α of every row of a batch, keyed by (seed, global sample, draw).</summary>
    private (Tensor BackgroundIndex, Tensor Alpha) BatchDraws(DrawPlan plan, List<Block> blocks, long count)
    {
        var index = new long[count];
        var alpha = new double[count];
        long rows = plan.Background[0].shape[0];
        long row = 0;
        foreach (var b in blocks)
            for (long s = b.FirstSample; s < b.FirstSample + b.Count; s++)
                for (long d = b.Before; d < b.Before + b.Draws; d++, row++)
                {
                    index[row] = plan.GivenDraws?.Index(plan.FirstSample + s, d) ?? plan.Draws.Index(DrawPurpose.BackgroundIndex, s, d, rows);
                    alpha[row] = plan.GivenDraws?.Alpha(plan.FirstSample + s, d) ?? plan.Draws.Uniform(DrawPurpose.Alpha, s, d);
                }
        return (tensor(index, int64).to(_device), tensor(alpha, float64).to(_device));
    }

    /// <summary>Gaussian noise for the rows of a batch, drawn per (seed, input, global sample, chunk of draws).</summary>
    private Tensor Noise(DrawPlan plan, Tensor samples, int input, List<Block> blocks)
    {
        var shape = samples.shape.Skip(1).ToArray();
        var type = samples.dtype;
        var parts = new List<Tensor>();
        foreach (var b in blocks)
            for (long s = b.FirstSample; s < b.FirstSample + b.Count; s++)
                for (long chunk = b.Before / NoiseChunk; chunk * NoiseChunk < b.Before + b.Draws; chunk++)
                {
                    long first = chunk * NoiseChunk, length = Math.Min(NoiseChunk, plan.Samples - first);
                    using var generator = new Generator(plan.Draws.StreamSeed(DrawPurpose.Noise, s, chunk * 1024 + input), CPU);
                    var all = randn(new[] { length }.Concat(shape).ToArray(), dtype: type, generator: generator);
                    long from = Math.Max(first, b.Before), to = Math.Min(first + length, b.Before + b.Draws);
                    parts.Add(from == first && to == first + length ? all : all.narrow(0, from - first, to - from));
                }
        var noise = parts.Count == 1 ? parts[0] : cat(parts, 0);
        return noise.to(_device);
    }

    /// <summary>
    /// The rows [start, start+count) of a batch: the points whose gradients are taken, what each gradient is
    /// multiplied by, and in layer mode the model inputs that lead to the layer.
    /// </summary>
    private sealed record Rows(Tensor[] Points, Tensor[] Multipliers, Tensor SampleIndex, Tensor[]? ModelInputs);

    private Rows Interpolate(DrawPlan plan, long count, List<Block> blocks)
    {
        var sampleIndex = SampleIndex(blocks);
        var (backgroundIndex, alpha) = BatchDraws(plan, blocks, count);
        if (plan.ShapLayer)
        {
            // shap: interpolate the model inputs, multiply by the layer input at that point.
            var (modelPoints, _) = Between(plan, plan.Inputs, _background, sampleIndex, backgroundIndex, alpha, blocks);
            Tensor? activation;
            using (no_grad())
                Forward(modelPoints, null, out activation);
            return new Rows(new[] { activation!.clone() }, new[] { activation! }, sampleIndex, modelPoints);
        }
        var (points, deltas) = Between(plan, plan.Explained, plan.Background, sampleIndex, backgroundIndex, alpha, blocks);
        var modelInputs = _layer is null ? null : plan.Inputs.Select(t => t.index_select(0, sampleIndex)).ToArray();
        return new Rows(points, deltas, sampleIndex, modelInputs);
    }

    /// <summary>r + α(x̃ − r) and x̃ − r for each row, x̃ = x plus the smoothing noise.</summary>
    private (Tensor[] Points, Tensor[] Deltas) Between(DrawPlan plan, Tensor[] samples, Tensor[] background, Tensor sampleIndex,
                                                       Tensor backgroundIndex, Tensor alpha, List<Block> blocks)
    {
        long count = sampleIndex.shape[0];
        var points = new Tensor[samples.Length];
        var deltas = new Tensor[samples.Length];
        for (int i = 0; i < samples.Length; i++)
        {
            var x = samples[i].index_select(0, sampleIndex);
            if (plan.Sigma > 0) x = x.add(Noise(plan, samples[i], i, blocks), plan.Sigma);
            var r = background[i].index_select(0, backgroundIndex);
            var d = x - r;
            var a = alpha.to_type(x.dtype).view(new[] { count }.Concat(Enumerable.Repeat(1L, (int)x.dim() - 1)).ToArray());
            points[i] = r.addcmul(a, d, 1);
            deltas[i] = d;
        }
        return (points, deltas);
    }

    private Tensor ForwardWithGrad(DrawPlan plan, Tensor[] leaves, Tensor[]? modelInputs, long replicas)
    {
        Tensor y;
        if (_layer is null)
            y = _model.Forward(leaves);
        else
        {
            var raw = modelInputs!;
            if (replicas > 1) raw = raw.Select(t => t.repeat(new[] { replicas }.Concat(Enumerable.Repeat(1L, (int)t.dim() - 1)).ToArray())).ToArray();
            y = Forward(raw, leaves[0], out _);
        }
        EngineChecks.Output(y, leaves[0].shape[0], OutputCount);
        if (!y.requires_grad)
            EngineChecks.Attached(Engine, plan.Fx, plan.Expected, Labels);
        // Ties every leaf into the graph: an input the output does not depend on gets a zero gradient instead of
        // none, and a constant output (f(x) = E[f] everywhere, checked above) gets zero attributions.
        var anchor = leaves.Select(l => l.sum()).Aggregate((a, b) => a + b).mul(0);
        return y + anchor.to_type(y.dtype);
    }

    /// <summary>
    /// Bytes per row of a gradient batch, measured on a probe of up to eight rows that runs the forward pass and one
    /// backward pass (<see cref="Batching.MeasurePeakBytes"/>: the tensors created and, on the CPU, the peak resident
    /// memory), with half again for the per-output products and merges a batch adds.
    /// </summary>
    private double EstimateBytesPerRow(DrawPlan plan)
    {
        long probe = Math.Min(8, plan.Samples * plan.Explained[0].shape[0]);
        var blocks = Blocks(0, probe, plan.Samples);
        long bytes = Batching.MeasurePeakBytes(_device, () =>
        {
            using var grad = enable_grad();
            var rows = Interpolate(plan, probe, blocks);
            var leaves = rows.Points.Select(p => p.requires_grad_()).ToArray();
            var y = ForwardWithGrad(plan, leaves, rows.ModelInputs, 1);
            var grads = Gradients.Of(new[] { y.select(1, 0).sum() }, null, leaves, retainGraph: false);
            for (int i = 0; i < grads.Length; i++) _ = grads[i]! * rows.Multipliers[i];
        });
        return 1.5 * bytes / probe;
    }

    private void RunBatch(DrawPlan plan, long start, long count, Tensor[][] mean, Tensor[][]? m2)
    {
        using var grad = enable_grad();
        var blocks = Blocks(start, count, plan.Samples);
        var (points, deltas, sampleIndex, modelInputs) = Interpolate(plan, count, blocks);
        int m = points.Length;
        Tensor? rowOutputs = plan.Ranked ? plan.OutputIndexes!.index_select(0, sampleIndex) : null; // [count, k]
        var stats = new (Tensor Mean, Tensor? M2)[plan.K][][];
        for (int j = 0; j < plan.K; j++) stats[j] = new (Tensor, Tensor?)[m][];

        if (plan.Mode == GradientOutputMode.Replicate && plan.K > 1)
        {
            long k = plan.K;
            var leaves = points.Select(p => p.repeat(new[] { k }.Concat(Enumerable.Repeat(1L, (int)p.dim() - 1)).ToArray()).requires_grad_()).ToArray();
            var y = ForwardWithGrad(plan, leaves, modelInputs, k).view(k, count, -1);
            var index = rowOutputs is not null
                ? rowOutputs.t().unsqueeze(-1)
                : arange(k, dtype: int64, device: _device).view(k, 1, 1).expand(k, count, 1);
            var selected = y.gather(2, index).sum();
            var grads = Gradients.Of(new[] { selected }, null, leaves, retainGraph: false);
            for (int i = 0; i < m; i++)
            {
                var g = grads[i]!.view(new[] { k, count }.Concat(points[i].shape.Skip(1)).ToArray());
                for (int j = 0; j < plan.K; j++)
                    stats[j][i] = BlockStats(g[j] * deltas[i], blocks, plan.Variances);
            }
        }
        else
        {
            var leaves = points.Select(p => p.requires_grad_()).ToArray();
            var y = ForwardWithGrad(plan, leaves, modelInputs, 1);
            for (int j = 0; j < plan.K; j++)
            {
                plan.Cancellation.ThrowIfCancellationRequested();
                var selected = rowOutputs is not null ? y.gather(1, rowOutputs.narrow(1, j, 1)).sum() : y.select(1, j).sum();
                var grads = Gradients.Of(new[] { selected }, null, leaves, retainGraph: j < plan.K - 1);
                for (int i = 0; i < m; i++)
                    stats[j][i] = BlockStats(grads[i]! * deltas[i], blocks, plan.Variances);
            }
        }

        // Commit only after every backward pass succeeded, so an out-of-memory retry never counts a draw twice.
        for (int j = 0; j < plan.K; j++)
            for (int i = 0; i < m; i++)
                for (int b = 0; b < blocks.Count; b++)
                    Commit(blocks[b], stats[j][i][b], mean[j][i], m2?[j][i]);
    }
    private static (Tensor Mean, Tensor? M2)[] BlockStats(Tensor products, List<Block> blocks, bool variances)
    {
        var result = new (Tensor, Tensor?)[blocks.Count];
        for (int b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            var rows = products.narrow(0, block.Offset, block.Count * block.Draws)
                               .view(new[] { block.Count, block.Draws }.Concat(products.shape.Skip(1)).ToArray());
            var mean = rows.mean(new long[] { 1 });
            Tensor? m2 = variances ? (rows - mean.unsqueeze(1)).square().sum(1) : null;
            result[b] = (mean, m2);
        }
        return result;
    }

    /// <summary>Merges a block's mean and sum of squared deviations into the running ones (Chan et al.).</summary>
    private static void Commit(Block block, (Tensor Mean, Tensor? M2) stats, Tensor mean, Tensor? m2)
    {
        var meanSlice = mean.narrow(0, block.FirstSample, block.Count);
        var m2Slice = m2?.narrow(0, block.FirstSample, block.Count);
        if (block.Before == 0)
        {
            meanSlice.copy_(stats.Mean);
            m2Slice?.copy_(stats.M2!);
            return;
        }
        double na = block.Before, nb = block.Draws, nTotal = na + nb;
        var delta = stats.Mean - meanSlice;
        if (m2Slice is not null)
            m2Slice.add_(stats.M2!).add_(delta.square().mul(na * nb / nTotal));
        meanSlice.add_(delta.mul(nb / nTotal));
    }
}
