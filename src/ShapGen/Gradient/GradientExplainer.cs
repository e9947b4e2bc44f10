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
/// (x_layer − r_layer), not by the raw layer activation, so layer attributions add up to the output change.</para>
/// <para>The constructor puts the module in evaluation mode (as shap does). One explainer may be used by one thread
/// at a time; several explainers on one model may run on different threads.</para>
/// </remarks>
public sealed class GradientExplainer : IDisposable
{
    private readonly ExplainableModel _model;
    private readonly Tensor[] _background;        // aliases of the caller's background, model inputs
    private readonly Tensor[] _explainedBackground; // what draws interpolate: the inputs, or the layer inputs
    private readonly long[][] _inputShapes;
    private readonly ScalarType[] _inputTypes;
    private readonly Device _device;
    private readonly IReadOnlyList<string>? _labels;
    private readonly IReadOnlyList<string>? _inputNames;
    private readonly string? _layerPath;
    private readonly nn.Module<Tensor, Tensor>? _layer;
    private readonly nn.Module<Tensor, Tensor>.HookRemover? _hook;
    private readonly ThreadLocal<LayerState?> _layerState = new();
    private readonly Tensor _expected;
    private bool _disposed;

    /// <summary>Creates an explainer and evaluates the model on the background once (for the expected value).</summary>
    /// <param name="model">The model. Its module, if any, is put in evaluation mode.</param>
    /// <param name="background">One batched tensor per model input, all with the same number of rows (shap's
    /// <c>data</c>); on the model's device. The explainer keeps aliases of them, so the caller may dispose its own.</param>
    /// <param name="layer">Explain the input of this submodule, named as in <c>named_modules()</c> (e.g.
    /// <c>"features.7"</c>, or a field name); null explains the model inputs. The submodule must take one tensor and
    /// be invoked with <c>.call</c> exactly once per forward pass.</param>
    /// <param name="labels">Names of the model outputs, carried into explanations.</param>
    /// <param name="inputNames">Names of the model inputs, used in error messages.</param>
    /// <exception cref="ArgumentException">The background or the layer is invalid; the message says why.</exception>
    public GradientExplainer(ExplainableModel model, Tensor[] background, string? layer = null,
                             IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _labels = labels;
        _inputNames = inputNames;
        var modelDevice = model.Device;
        long rows = InputValidation.CheckBatch(background, nameof(background), model.InputCount, null, modelDevice, inputNames);
        _device = modelDevice ?? background[0].device;
        if (modelDevice is null)
            for (int i = 1; i < background.Length; i++)
                if (background[i].device.ToString() != _device.ToString())
                    throw new ArgumentException(
                        $"'background' {InputValidation.InputName(i, inputNames)} is on {background[i].device}; input 0 is on {_device}. " +
                        "All inputs must be on one device.", nameof(background));
        _inputShapes = InputValidation.SampleShapes(background);
        _inputTypes = background.Select(t => t.dtype).ToArray();
        model.Module?.eval();

        if (layer is not null)
        {
            _layerPath = layer;
            nn.Module found;
            try { found = model.FindLayer(layer); }
            catch (InvalidOperationException e) { throw new ArgumentException(e.Message, nameof(layer), e); }
            catch (ArgumentException e) { throw new ArgumentException(e.Message, nameof(layer), e); }
            _layer = found as nn.Module<Tensor, Tensor>
                ?? throw new ArgumentException(
                    $"Layer '{layer}' is a {found.GetType().Name}; layer explanation needs a submodule that takes one tensor " +
                    "(nn.Module<Tensor, Tensor>).", nameof(layer));
            _hook = _layer.register_forward_pre_hook(PreHook);
        }

        var scope = NewDisposeScope();
        try
        {
            _background = background.Select(t => t.alias()).ToArray();
            var (outputs, layerInputs) = Evaluate(_background, rows, captureLayer: _layer is not null, new ExplainOptions(), CancellationToken.None);
            if (!outputs.is_floating_point())
                throw new ArgumentException($"The model output must be floating point; it is {outputs.dtype}.", nameof(model));
            _expected = outputs.to_type(float64).mean(new long[] { 0 }).to_type(outputs.dtype);
            OutputCount = (int)outputs.shape[1];
            if (OutputCount < 1)
                throw new ArgumentException("The model returns no outputs (shape [N, 0]).", nameof(model));
            _explainedBackground = layerInputs is null ? _background : new[] { layerInputs };
            ExplainedShapes = InputValidation.SampleShapes(_explainedBackground);
            _expected.DetachFromDisposeScope();
            foreach (var t in _background) t.DetachFromDisposeScope();
            layerInputs?.DetachFromDisposeScope();
        }
        catch
        {
            _hook?.remove();
            throw;
        }
        finally
        {
            scope.Dispose();
        }
    }

    /// <summary>E[f(background)] per model output, [K] (computed once, at construction).</summary>
    public Tensor ExpectedValues
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _expected;
        }
    }

    /// <summary>Number of model outputs K.</summary>
    public int OutputCount { get; }

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
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>An explanation the caller owns and must dispose. In layer mode it has exactly one input: the layer input.</returns>
    /// <exception cref="ArgumentException">An input is invalid; the message names it, the expected and the actual value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the exception names it.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; everything allocated is freed.</exception>
    public Explanation Explain(Tensor[] inputs, GradientExplainOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= new GradientExplainOptions();
        ValidateOptions(options);
        long n = InputValidation.CheckBatch(inputs, nameof(inputs), _model.InputCount, _inputShapes, _device, _inputNames);
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].dtype != _inputTypes[i])
                throw new ArgumentException(
                    $"'inputs' {InputValidation.InputName(i, _inputNames)} has dtype {inputs[i].dtype}; the background has {_inputTypes[i]}.",
                    nameof(inputs));
        cancellationToken.ThrowIfCancellationRequested();

        int samples = options.NSamples;
        long seed = options.Seed ?? Random.Shared.NextInt64();
        bool ranked = options.RankedOutputs is not null;
        int k = options.RankedOutputs ?? OutputCount;
        var mode = options.OutputMode == GradientOutputMode.Replicate ? GradientOutputMode.Replicate : GradientOutputMode.RetainGraph;

        using var outer = NewDisposeScope();
        var (fx, layerInputs) = Evaluate(inputs, n, captureLayer: _layer is not null, options, cancellationToken);
        var explained = layerInputs is null ? inputs : new[] { layerInputs };
        Tensor? outputIndexes = ranked ? OutputRanking.Select(fx, k, options.OutputRankOrder) : null;

        long total = n * samples;
        Tensor backgroundIndex, alphas;
        using (var generator = new Generator(unchecked((ulong)seed), CPU))
        {
            backgroundIndex = randint(0, _background[0].shape[0], new[] { total }, dtype: int64, generator: generator).to(_device);
            alphas = rand(new[] { total }, dtype: float64, generator: generator).to(_device);
        }

        int m = explained.Length;
        var mean = new Tensor[k][];
        var m2 = options.ReturnVariances ? new Tensor[k][] : null;
        for (int j = 0; j < k; j++)
        {
            mean[j] = explained.Select(t => zeros(t.shape, dtype: t.dtype, device: _device)).ToArray();
            if (m2 is not null) m2[j] = explained.Select(t => zeros(t.shape, dtype: t.dtype, device: _device)).ToArray();
        }

        var plan = new DrawPlan(inputs, explained, samples, k, ranked, outputIndexes, backgroundIndex, alphas, seed,
                                options.LocalSmoothing, options.ReturnVariances, mode);
        double bytesPerRow = EstimateBytesPerRow(plan);
        long rows = Batching.RowsPerBatch(bytesPerRow * (mode == GradientOutputMode.Replicate ? k : 1), _device, options);
        if (rows >= samples) rows = rows / samples * samples;
        Batching.Run(total, rows, (start, count) => RunBatch(plan, start, count, mean, m2), options, cancellationToken,
                     "GradientExplainer");

        var values = new Tensor[k][];
        Tensor[][]? variances = m2 is null ? null : new Tensor[k][];
        for (int j = 0; j < k; j++)
        {
            values[j] = mean[j].Select(t => t.MoveToOuterDisposeScope()).ToArray();
            if (variances is not null)
                variances[j] = m2![j].Select(t => t.div((double)samples * samples).MoveToOuterDisposeScope()).ToArray();
        }
        var expected = _expected.clone().MoveToOuterDisposeScope();
        outputIndexes?.MoveToOuterDisposeScope();
        return new Explanation(values, expected, variances, outputIndexes, _labels);
    }

    /// <summary>Removes the layer hook and frees the explainer's tensors (never the caller's).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _hook?.remove();
        foreach (var t in _background) t.Dispose();
        if (!ReferenceEquals(_explainedBackground, _background))
            foreach (var t in _explainedBackground) t.Dispose();
        _expected.Dispose();
        _layerState.Dispose();
    }

    private void ValidateOptions(GradientExplainOptions options)
    {
        if (options.NSamples < 1)
            throw new ArgumentOutOfRangeException(nameof(options.NSamples), options.NSamples, "NSamples must be at least 1.");
        if (double.IsNaN(options.LocalSmoothing) || double.IsInfinity(options.LocalSmoothing) || options.LocalSmoothing < 0)
            throw new ArgumentOutOfRangeException(nameof(options.LocalSmoothing), options.LocalSmoothing,
                "LocalSmoothing must be a finite standard deviation ≥ 0.");
        if (options.RankedOutputs is int r && (r < 1 || r > OutputCount))
            throw new ArgumentOutOfRangeException(nameof(options.RankedOutputs), r,
                $"RankedOutputs must be between 1 and the model's {OutputCount} outputs.");
        if (options.MaxBatchRows is int b && b < 1)
            throw new ArgumentOutOfRangeException(nameof(options.MaxBatchRows), b, "MaxBatchRows must be at least 1.");
        if (options.MemoryBudgetBytes is long bytes && bytes < 1)
            throw new ArgumentOutOfRangeException(nameof(options.MemoryBudgetBytes), bytes, "MemoryBudgetBytes must be positive.");
        if (!Enum.IsDefined(options.OutputRankOrder))
            throw new ArgumentOutOfRangeException(nameof(options.OutputRankOrder), options.OutputRankOrder, "Unknown rank order.");
        if (!Enum.IsDefined(options.OutputMode))
            throw new ArgumentOutOfRangeException(nameof(options.OutputMode), options.OutputMode, "Unknown output mode.");
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
                $"Layer '{_layerPath}' received input of shape {InputValidation.Format(input.shape)} but the explainer " +
                $"expected {InputValidation.Format(state.Replacement.shape)}: the per-sample shape of the layer input must not depend on the batch.");
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
        long probeRows = Math.Min(n, 2);
        long bytes = Batching.MeasureScopeBytes(() => Forward(inputs.Select(t => t.narrow(0, 0, probeRows)).ToArray(), null, out _));
        long rows = Batching.RowsPerBatch(2.0 * bytes / probeRows, _device, options);
        Batching.Run(n, rows, (start, count) =>
        {
            var batch = inputs.Select(t => t.narrow(0, start, count)).ToArray();
            var y = Forward(batch, null, out var captured);
            CheckOutput(y, count);
            outputs.Add(y.detach().clone().MoveToOuterDisposeScope());
            if (captureLayer) layerInputs.Add(captured!.clone().MoveToOuterDisposeScope());
        }, new ExplainOptions { MaxBatchRows = options.MaxBatchRows, MemoryBudgetBytes = options.MemoryBudgetBytes, Log = options.Log },
        cancellationToken, "GradientExplainer (model evaluation)");
        var all = outputs.Count == 1 ? outputs[0] : cat(outputs, 0);
        var layerAll = !captureLayer ? null : layerInputs.Count == 1 ? layerInputs[0] : cat(layerInputs, 0);
        return (all, layerAll);
    }

    private void CheckOutput(Tensor y, long rows)
    {
        if (y.shape[0] != rows)
            throw new InvalidOperationException(
                $"The model returned {y.shape[0]} rows for a batch of {rows}; it must return one row per input row.");
        if (_explainedBackground is not null && y.shape[1] != OutputCount)
            throw new InvalidOperationException(
                $"The model returned {y.shape[1]} outputs; it returned {OutputCount} on the background.");
    }

    // ---- the draws -------------------------------------------------------------------------------------------

    private sealed record DrawPlan(Tensor[] Inputs, Tensor[] Explained, int Samples, int K, bool Ranked,
                                   Tensor? OutputIndexes, Tensor BackgroundIndex, Tensor Alphas, long Seed,
                                   double Sigma, bool Variances, GradientOutputMode Mode);

    /// <summary>A run of rows in a batch: <c>Count</c> samples from <c>FirstSample</c>, <c>Draws</c> consecutive
    /// draws each, of which <c>Before</c> were already accumulated in earlier batches.</summary>
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

    /// <summary>Noise for rows of a batch, drawn per (seed, input, sample) so it does not depend on batch sizes.</summary>
    private Tensor Noise(DrawPlan plan, int input, List<Block> blocks)
    {
        var shape = plan.Explained[input].shape.Skip(1).ToArray();
        var type = plan.Explained[input].dtype;
        var parts = new List<Tensor>();
        foreach (var b in blocks)
            for (long s = b.FirstSample; s < b.FirstSample + b.Count; s++)
            {
                using var generator = new Generator(Mix(plan.Seed, input, s), CPU);
                var all = randn(new[] { (long)plan.Samples }.Concat(shape).ToArray(), dtype: type, generator: generator);
                parts.Add(b.Draws == plan.Samples ? all : all.narrow(0, b.Before, b.Draws));
            }
        var noise = parts.Count == 1 ? parts[0] : cat(parts, 0);
        return noise.to(_device);
    }

    private static ulong Mix(long seed, int input, long sample)
    {
        ulong z = unchecked((ulong)seed + 0x9E3779B97F4A7C15UL * (ulong)(input + 1) + 0xBF58476D1CE4E5B9UL * (ulong)(sample + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Builds the interpolated leaves and deltas for rows [start, start+count).</summary>
    private (Tensor[] Points, Tensor[] Deltas, Tensor SampleIndex) Interpolate(DrawPlan plan, long start, long count, List<Block> blocks)
    {
        var sampleIndex = SampleIndex(blocks);
        var backgroundIndex = plan.BackgroundIndex.narrow(0, start, count);
        var alpha = plan.Alphas.narrow(0, start, count);
        int m = plan.Explained.Length;
        var points = new Tensor[m];
        var deltas = new Tensor[m];
        for (int i = 0; i < m; i++)
        {
            var x = plan.Explained[i].index_select(0, sampleIndex);
            if (plan.Sigma > 0) x = x.add(Noise(plan, i, blocks), plan.Sigma);
            var r = _explainedBackground[i].index_select(0, backgroundIndex);
            var d = x - r;
            var a = alpha.to_type(x.dtype).view(new[] { count }.Concat(Enumerable.Repeat(1L, (int)x.dim() - 1)).ToArray());
            points[i] = r.addcmul(a, d, 1);
            deltas[i] = d;
        }
        return (points, deltas, sampleIndex);
    }

    private Tensor ForwardWithGrad(DrawPlan plan, Tensor[] leaves, Tensor sampleIndex, long replicas)
    {
        Tensor y;
        if (_layer is null)
            y = _model.Forward(leaves);
        else
        {
            var raw = plan.Inputs.Select(t => t.index_select(0, sampleIndex)).ToArray();
            if (replicas > 1) raw = raw.Select(t => t.repeat(new[] { replicas }.Concat(Enumerable.Repeat(1L, (int)t.dim() - 1)).ToArray())).ToArray();
            y = Forward(raw, leaves[0], out _);
        }
        CheckOutput(y, leaves[0].shape[0]);
        // Ties every leaf into the graph: an input the output does not depend on gets a zero gradient instead of
        // an undefined one (a libtorch error inside autograd.grad would abort the process).
        var anchor = leaves.Select(l => l.sum()).Aggregate((a, b) => a + b).mul(0);
        return y + anchor.to_type(y.dtype);
    }

    private double EstimateBytesPerRow(DrawPlan plan)
    {
        long probe = Math.Min(2, plan.Samples);
        var blocks = Blocks(0, probe, plan.Samples);
        long bytes = Batching.MeasureScopeBytes(() =>
        {
            using var grad = enable_grad();
            var (points, _, sampleIndex) = Interpolate(plan, 0, probe, blocks);
            var leaves = points.Select(p => p.requires_grad_()).ToArray();
            ForwardWithGrad(plan, leaves, sampleIndex, 1);
        });
        // Activations kept for backward, plus one backward's transient buffers, plus per-output products.
        return 3.0 * bytes / probe;
    }

    private void RunBatch(DrawPlan plan, long start, long count, Tensor[][] mean, Tensor[][]? m2)
    {
        using var grad = enable_grad();
        var blocks = Blocks(start, count, plan.Samples);
        var (points, deltas, sampleIndex) = Interpolate(plan, start, count, blocks);
        int m = points.Length;
        Tensor? rowOutputs = plan.Ranked ? plan.OutputIndexes!.index_select(0, sampleIndex) : null; // [count, k]
        var stats = new (Tensor Mean, Tensor? M2)[plan.K][][];
        for (int j = 0; j < plan.K; j++) stats[j] = new (Tensor, Tensor?)[m][];

        if (plan.Mode == GradientOutputMode.Replicate && plan.K > 1)
        {
            long k = plan.K;
            var leaves = points.Select(p => p.repeat(new[] { k }.Concat(Enumerable.Repeat(1L, (int)p.dim() - 1)).ToArray()).requires_grad_()).ToArray();
            var y = ForwardWithGrad(plan, leaves, sampleIndex, k).view(k, count, -1);
            var index = rowOutputs is not null
                ? rowOutputs.t().unsqueeze(-1)
                : arange(k, dtype: int64, device: _device).view(k, 1, 1).expand(k, count, 1);
            var selected = y.gather(2, index).sum();
            var grads = autograd.grad(new[] { selected }, leaves, retain_graph: false);
            for (int i = 0; i < m; i++)
            {
                var g = grads[i].view(new[] { k, count }.Concat(points[i].shape.Skip(1)).ToArray());
                for (int j = 0; j < plan.K; j++)
                    stats[j][i] = BlockStats(g[j] * deltas[i], blocks, plan.Variances);
            }
        }
        else
        {
            var leaves = points.Select(p => p.requires_grad_()).ToArray();
            var y = ForwardWithGrad(plan, leaves, sampleIndex, 1);
            for (int j = 0; j < plan.K; j++)
            {
                var selected = rowOutputs is not null ? y.gather(1, rowOutputs.narrow(1, j, 1)).sum() : y.select(1, j).sum();
                var grads = autograd.grad(new[] { selected }, leaves, retain_graph: j < plan.K - 1);
                for (int i = 0; i < m; i++)
                    stats[j][i] = BlockStats(grads[i] * deltas[i], blocks, plan.Variances);
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
