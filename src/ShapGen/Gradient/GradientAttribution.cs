using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// The base of Captum's gradient methods (<see cref="Saliency"/>, <see cref="InputXGradient"/>,
/// <see cref="IntegratedGradients"/>): one engine that evaluates gradients at points on a path from a baseline to
/// each (optionally noisy) input, for every sample × noisy copy × step in large batches, and all explained outputs
/// from one forward pass. The model's module, if any, is put in evaluation mode.
/// </summary>
/// <remarks>An instance holds no tensors; one instance may be used from several threads.</remarks>
public abstract class GradientAttribution
{
    private readonly ExplainableModel _model;
    private readonly string _engine;

    /// <summary>Wraps <paramref name="model"/>.</summary>
    /// <param name="model">The model; its module, if any, is put in evaluation mode.</param>
    /// <param name="labels">Names of the model outputs (one per output), carried into explanations; or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages; or null.</param>
    private protected GradientAttribution(ExplainableModel model, IReadOnlyList<string>? labels, IReadOnlyList<string>? inputNames)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _engine = GetType().Name;
        Labels = labels;
        InputNames = inputNames;
        model.Module?.eval();
    }

    /// <summary>Names of the model outputs, when given.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Names of the model inputs, when given.</summary>
    public IReadOnlyList<string>? InputNames { get; }

    /// <summary>What a method evaluates on each path point and multiplies its gradient by.</summary>
    private protected enum Multiplier
    {
        /// <summary>The gradient itself (saliency).</summary>
        None,
        /// <summary>The (noisy) input (input × gradient).</summary>
        Input,
        /// <summary>The input minus the baseline (integrated gradients).</summary>
        InputMinusBaseline,
    }

    /// <summary>A method: path points α with weights, the multiplier, and |·| of each copy's attribution.</summary>
    private protected sealed record PathMethod(double[] Alphas, double[] Weights, Multiplier Multiplier, bool Abs);

    /// <summary>
    /// Runs <paramref name="method"/> on <paramref name="inputs"/> (see the derived types' Explain). With a
    /// <paramref name="layer"/>, the path runs in the space of its input or output (layer integrated gradients): the
    /// explained tensors are the layer's values at the inputs and at the baselines.
    /// </summary>
    private protected Explanation Run(PathMethod method, Tensor[] inputs, Tensor[]? baselines, GradientMethodOptions options,
                                      bool wantDelta, out Tensor? delta, CancellationToken cancellationToken, LayerHook? layer = null)
    {
        var device = _model.Device;
        long n = InputValidation.CheckBatch(inputs, nameof(inputs), _model.InputCount, null, device, InputNames);
        device ??= inputs[0].device;
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i].device.ToString() != device.ToString())
                throw new ArgumentException(
                    $"'inputs' {InputValidation.InputName(i, InputNames)} is on {inputs[i].device}; input 0 is on {device}. All inputs must be on one device.",
                    nameof(inputs));
            if (_model.ParameterType is { } parameters && inputs[i].dtype != parameters)
                throw new ArgumentException(
                    $"'inputs' {InputValidation.InputName(i, InputNames)} is {inputs[i].dtype} but the model's parameters are {parameters}: " +
                    $"convert the data (.to_type({parameters})) or the model (.to({inputs[i].dtype})).", nameof(inputs));
        }
        var noise = options.NoiseTunnel;
        double[] sigmas = Sigmas(noise, inputs.Length);
        if (layer is not null && noise is not null)
            throw new ArgumentException("A noise tunnel is not supported by layer methods; set NoiseTunnel = null.", nameof(options));
        if (options.Target is not null && options.RankedOutputs is not null)
            throw new ArgumentException("Set either Target or RankedOutputs, not both.", nameof(options));
        cancellationToken.ThrowIfCancellationRequested();

        using var outer = NewDisposeScope();
        var references = method.Multiplier == Multiplier.InputMinusBaseline
            ? InputValidation.Baselines(baselines, inputs, n, InputNames)
            : inputs.Select(t => zeros(new[] { 1L }.Concat(t.shape.Skip(1)).ToArray(), dtype: t.dtype, device: t.device)).ToArray();
        var (fx, layerX) = Evaluate(inputs, nameof(inputs), options, cancellationToken, layer);
        long outputCount = fx.shape[1];
        EngineChecks.Labels(Labels, outputCount);
        EngineChecks.Options(options, outputCount);
        if (options.Target is int target && target >= outputCount)
            throw new ArgumentOutOfRangeException(nameof(options.Target), target,
                $"Target must be between 0 and {outputCount - 1} (the model has {outputCount} outputs); it is {target}.");
        var (fb, layerB) = Evaluate(references, nameof(baselines), options, cancellationToken, layer);
        var explained = layer is null ? inputs : new[] { layerX! };
        if (layer is not null) references = new[] { layerB! };
        var order = options.Target is int t0
            ? full(n, 1, (long)t0, dtype: int64, device: device)
            : OutputRanking.Select(fx, options.RankedOutputs, options.OutputRankOrder);
        bool ranked = options.Target is not null || options.RankedOutputs is not null;
        double referenceGap = (fx.to_type(ScalarType.Float64) - fb.to_type(ScalarType.Float64)).abs().max().item<double>();

        using var run = new Accumulation(this, method, explained, references, order, outputCount, sigmas, noise, SampleDraws.For(options),
                                         referenceGap, cancellationToken, layer, inputs);
        long total = n * run.Copies * method.Alphas.Length;
        long rows = Batching.RowsPerBatch(run.BytesPerRow(), device, options, _engine);
        Batching.Run(total, rows, run.Batch, options, cancellationToken, _engine);
        var values = run.Results();

        delta = null;
        if (wantDelta)
        {
            var sums = stack(values.Select(row => row.Select(v => v.flatten(1).sum(1)).Aggregate((a, b) => a + b)).ToArray(), 1);
            var change = fx.gather(1, order) - fb.expand(n, outputCount).gather(1, order);
            delta = (sums - change).MoveToOuterDisposeScope();
        }
        var expected = fb.mean(new long[] { 0 }).MoveToOuterDisposeScope();
        var result = values.Select(row => row.Select(v => v.MoveToOuterDisposeScope()).ToArray()).ToArray();
        return new Explanation(result, expected, null, ranked ? order.MoveToOuterDisposeScope() : null, Labels);
    }

    private static double[] Sigmas(NoiseTunnelOptions? noise, int inputCount)
    {
        if (noise is null) return new double[inputCount];
        var s = noise.Stdevs;
        if (s.Count == 1) return Enumerable.Repeat(s[0], inputCount).ToArray();
        if (s.Count != inputCount)
            throw new ArgumentException(
                $"NoiseTunnel.Stdevs has {s.Count} values; give one for every input or one per input (the model takes {inputCount}).",
                nameof(NoiseTunnelOptions.Stdevs));
        return s.ToArray();
    }

    /// <summary>The model's outputs [rows, K] without gradients, batched, checked for shape and finiteness.</summary>
    private (Tensor Outputs, Tensor? Layer) Evaluate(Tensor[] rows, string argument, ExplainOptions options, CancellationToken cancellationToken,
                                                    LayerHook? layer)
    {
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        var layerParts = new List<Tensor>();
        long? outputs = null;
        long rowCount = rows[0].shape[0];
        Tensor Forward(Tensor[] batch, out Tensor? captured)
        {
            captured = null;
            return layer is null ? _model.Forward(batch) : layer.Run(() => _model.Forward(batch), (Tensor?)null, out captured);
        }
        long probe = Math.Min(rowCount, 2);
        long bytes = Batching.MeasureScopeBytes(() => Forward(rows.Select(t => t.narrow(0, 0, probe)).ToArray(), out _));
        Batching.Run(rowCount, Batching.RowsPerBatch(2.0 * bytes / probe, rows[0].device, options, _engine), (start, count) =>
        {
            var y = Forward(rows.Select(t => t.narrow(0, start, count)).ToArray(), out var captured);
            if (captured is not null) layerParts.Add(captured.clone().MoveToOuterDisposeScope());
            EngineChecks.Output(y, count, outputs);
            outputs = y.shape[1];
            EngineChecks.Finite(y, argument, start, Labels);
            parts.Add(y.detach().clone().MoveToOuterDisposeScope());
        }, new ExplainOptions(options) { Progress = null }, cancellationToken, _engine);
        var all = parts.Count == 1 ? parts[0] : cat(parts, 0);
        return (all, layer is null ? null : layerParts.Count == 1 ? layerParts[0] : cat(layerParts, 0));
    }

    /// <summary>
    /// The batch loop's state. Rows are ordered (sample, noisy copy, step); a copy's attribution is the weighted sum
    /// of its steps' products (a copy may span two batches: its partial sum is carried). Copies are aggregated per
    /// sample relative to the sample's first copy (the pivot P): S1 = Σ(a − P), S2 = Σ(a² − P²) or Σ(a − P)², so
    /// identical copies give exactly the plain method's result and a variance of exactly 0.
    /// </summary>
    private sealed class Accumulation : IDisposable
    {
        private readonly GradientAttribution _owner;
        private readonly PathMethod _method;
        private readonly Tensor[] _inputs, _references, _alphas, _weights;
        private readonly Tensor _order;
        private readonly double[] _sigmas;
        private readonly NoiseTunnelOptions? _noise;
        private readonly SampleDraws _draws;
        private readonly double _referenceGap;
        private readonly CancellationToken _cancellation;
        private readonly LayerHook? _layer;
        private readonly Tensor[] _modelInputs;
        private readonly int _k, _m, _steps;
        private readonly long _outputCount;
        private readonly Tensor[][] _pivot;
        private readonly Tensor[][]? _s1, _s2;
        private Tensor[][]? _carry;

        public Accumulation(GradientAttribution owner, PathMethod method, Tensor[] inputs, Tensor[] references, Tensor order,
                            long outputCount, double[] sigmas, NoiseTunnelOptions? noise, SampleDraws draws, double referenceGap,
                            CancellationToken cancellation, LayerHook? layer, Tensor[] modelInputs)
        {
            (_layer, _modelInputs) = (layer, modelInputs);
            (_owner, _method, _inputs, _references, _order, _sigmas, _noise, _draws, _referenceGap, _cancellation) =
                (owner, method, inputs, references, order, sigmas, noise, draws, referenceGap, cancellation);
            _k = (int)order.shape[1];
            _outputCount = outputCount;
            _m = inputs.Length;
            _steps = method.Alphas.Length;
            var device = inputs[0].device;
            _alphas = inputs.Select(t => tensor(method.Alphas, dtype: float64).to(t.dtype).to(device)).ToArray();
            _weights = inputs.Select(t => tensor(method.Weights, dtype: float64).to(t.dtype).to(device)).ToArray();
            _pivot = NewSums();
            if (noise is not null)
            {
                _s1 = NewSums();
                if (noise.Type != NoiseTunnelType.SmoothGrad) _s2 = NewSums();
            }
        }

        public int Copies => _noise?.NSamples ?? 1;

        private Tensor[][] NewSums() =>
            Enumerable.Range(0, _k).Select(_ => _inputs.Select(t => zeros_like(t)).ToArray()).ToArray();

        /// <summary>Bytes per row measured on a probe of up to two rows (forward and one backward), doubled for
        /// libtorch's transient buffers.</summary>
        public double BytesPerRow()
        {
            long probe = Math.Min(2, _steps);
            long bytes = Batching.MeasureScopeBytes(() =>
            {
                using var grad = enable_grad();
                var (leaves, _, _, _, rowSample) = Points(0, probe);
                var y = Forward(leaves, rowSample);
                var grads = Gradients.Of(new[] { y.select(1, 0).sum() }, null, leaves, retainGraph: false);
                foreach (var g in grads) g?.mul(1);
            });
            return 2.0 * bytes / probe;
        }

        /// <summary>Leaves for rows [start, start + count), each row's local copy index and step, and the multipliers.</summary>
        private (Tensor[] Leaves, Tensor LocalCopy, Tensor Step, Tensor?[] Multipliers, Tensor RowSample) Points(long start, long count)
        {
            var device = _inputs[0].device;
            long copies = Copies;
            long g0 = start / _steps, g1 = (start + count - 1) / _steps;
            var rowIndex = arange(start, start + count, dtype: int64, device: device);
            var localCopy = rowIndex.div(_steps, rounding_mode: RoundingMode.floor) - g0;
            var step = rowIndex.remainder(_steps);
            var copyIndex = arange(g0, g1 + 1, dtype: int64, device: device);
            var copySample = copyIndex.div(copies, rounding_mode: RoundingMode.floor);
            var leaves = new Tensor[_m];
            var multipliers = new Tensor?[_m];
            for (int i = 0; i < _m; i++)
            {
                var x = _inputs[i].index_select(0, copySample);
                if (_sigmas[i] > 0) x = x.add(Noise(i, g0, g1), _sigmas[i]);
                var xr = x.index_select(0, localCopy);
                if (_method.Multiplier == Multiplier.InputMinusBaseline)
                {
                    var reference = _references[i];
                    var b = reference.shape[0] == 1
                        ? reference.expand(new[] { count }.Concat(reference.shape.Skip(1)).ToArray())
                        : reference.index_select(0, copySample).index_select(0, localCopy);
                    var d = xr - b;
                    var alpha = _alphas[i].index_select(0, step).view(new[] { count }.Concat(Enumerable.Repeat(1L, (int)d.dim() - 1)).ToArray());
                    leaves[i] = b.addcmul(alpha, d, 1).detach().requires_grad_();
                    multipliers[i] = d;
                }
                else
                {
                    leaves[i] = xr.detach().requires_grad_();
                    multipliers[i] = _method.Multiplier == Multiplier.Input ? xr : null;
                }
            }
            return (leaves, localCopy, step, multipliers, copySample.index_select(0, localCopy));
        }

        /// <summary>Gaussian noise for copies g0..g1 of input <paramref name="input"/>, one seeded stream per (sample, copy, input).</summary>
        private Tensor Noise(int input, long g0, long g1)
        {
            var shape = _inputs[input].shape.Skip(1).ToArray();
            var parts = new Tensor[g1 - g0 + 1];
            for (long g = g0; g <= g1; g++)
            {
                long sample = g / Copies, copy = g % Copies;
                using var generator = new Generator(_draws.StreamSeed(DrawPurpose.Noise, sample, copy * _m + input), CPU);
                parts[g - g0] = randn(shape, dtype: _inputs[input].dtype, generator: generator);
            }
            return stack(parts, 0).to(_inputs[input].device);
        }

        private Tensor Forward(Tensor[] leaves, Tensor rowSample)
        {
            var y = _layer is null
                ? _owner._model.Forward(leaves)
                : _layer.Run(() => _owner._model.Forward(_modelInputs.Select(t => t.index_select(0, rowSample)).ToArray()), leaves[0], out _);
            EngineChecks.Output(y, leaves[0].shape[0], _outputCount);
            if (!y.requires_grad)
            {
                bool constant = _method.Multiplier == Multiplier.InputMinusBaseline && _referenceGap <= 1e-12;
                if (!constant)
                    throw new InvalidOperationException(
                        $"{_owner._engine}: the model's output is detached from its inputs (it does not require grad: a .detach(), no_grad(), " +
                        ".item() or a copy through the host inside forward), so every gradient is 0" +
                        (_method.Multiplier == Multiplier.InputMinusBaseline
                            ? $", yet f(x) differs from f(baseline) by up to {_referenceGap.ToString("G6", CultureInfo.InvariantCulture)}."
                            : ".") +
                        " Keep the computation in autograd, or use KernelExplainer, which needs no gradients.");
            }
            // Ties every leaf into the graph: an input the output does not depend on gets a zero gradient, not none.
            var anchor = leaves.Select(l => l.sum()).Aggregate((a, b) => a + b).mul(0);
            return y + anchor.to_type(y.dtype);
        }

        /// <summary>One batch: gradients of every explained output, then the commit of complete copies.</summary>
        public void Batch(long start, long count)
        {
            using var grad = enable_grad();
            var (leaves, localCopy, step, multipliers, rowSample) = Points(start, count);
            var y = Forward(leaves, rowSample);
            long g0 = start / _steps, g1 = (start + count - 1) / _steps, local = g1 - g0 + 1;
            var rowOrder = _order.index_select(0, arange(g0, g1 + 1, dtype: int64, device: _order.device)
                                                     .div(Copies, rounding_mode: RoundingMode.floor)).index_select(0, localCopy);
            var copyAttributions = new Tensor[_k][];
            for (int j = 0; j < _k; j++)
            {
                _cancellation.ThrowIfCancellationRequested();
                var selected = y.gather(1, rowOrder.narrow(1, j, 1)).sum();
                var grads = Gradients.Of(new[] { selected }, null, leaves, retainGraph: j < _k - 1);
                copyAttributions[j] = new Tensor[_m];
                for (int i = 0; i < _m; i++)
                {
                    var g = grads[i]!;
                    var w = _weights[i].index_select(0, step).view(new[] { count }.Concat(Enumerable.Repeat(1L, (int)g.dim() - 1)).ToArray());
                    var products = multipliers[i] is { } mult ? g * w * mult : g * w;
                    var shape = new[] { local }.Concat(g.shape.Skip(1)).ToArray();
                    var sums = zeros(shape, dtype: g.dtype, device: g.device);
                    // Starting from the carried partial sum keeps the order of additions, so a copy split over two
                    // batches sums to the same bits as one computed in a single batch.
                    if (start % _steps != 0) sums[0].copy_(_carry![j][i]);
                    copyAttributions[j][i] = sums.index_add_(0, localCopy, products, 1);
                }
            }
            Commit(copyAttributions, start, count, g0, local);
        }

        /// <summary>Finishes complete copies into the per-sample sums and carries the last copy when it is partial.
        /// Runs only after every backward pass of the batch succeeded, so an out-of-memory retry counts nothing twice.</summary>
        private void Commit(Tensor[][] copyAttributions, long start, long count, long g0, long local)
        {
            bool carriedOut = (start + count) % _steps != 0;
            long complete = local - (carriedOut ? 1 : 0);
            var device = _inputs[0].device;
            var copyIndex = arange(g0, g0 + complete, dtype: int64, device: device);
            var samples = copyIndex.div(Copies, rounding_mode: RoundingMode.floor);
            var first = copyIndex.remainder(Copies).eq(0).nonzero().flatten();
            var next = carriedOut ? new Tensor[_k][] : null;
            for (int j = 0; j < _k; j++)
            {
                if (next is not null) next[j] = new Tensor[_m];
                for (int i = 0; i < _m; i++)
                {
                    var a = copyAttributions[j][i];
                    if (next is not null) next[j][i] = a[local - 1].clone().DetachFromDisposeScope();
                    if (complete == 0) continue;
                    var done = a.narrow(0, 0, complete);
                    if (_method.Abs) done = done.abs();
                    if (first.shape[0] > 0)
                        _pivot[j][i].index_copy_(0, samples.index_select(0, first), done.index_select(0, first));
                    if (_s1 is null) continue;
                    var pivot = _pivot[j][i].index_select(0, samples);
                    var diff = done - pivot;
                    _s1[j][i].index_add_(0, samples, diff, 1);
                    if (_s2 is not null)
                        _s2[j][i].index_add_(0, samples, _noise!.Type == NoiseTunnelType.SmoothGradSq ? done.square() - pivot.square() : diff.square(), 1);
                }
            }
            Dispose();
            _carry = next;
        }

        /// <summary>Frees the carried partial copy (after the last batch, or when the loop was cancelled or failed).</summary>
        public void Dispose()
        {
            if (_carry is not null)
                foreach (var row in _carry) foreach (var t in row) t.Dispose();
            _carry = null;
        }

        /// <summary>The aggregated attributions [k][m], each [N, …].</summary>
        public Tensor[][] Results()
        {
            if (_noise is null) return _pivot;
            double copies = Copies;
            var result = new Tensor[_k][];
            for (int j = 0; j < _k; j++)
            {
                result[j] = new Tensor[_m];
                for (int i = 0; i < _m; i++)
                    result[j][i] = _noise.Type switch
                    {
                        NoiseTunnelType.SmoothGrad => _pivot[j][i] + _s1![j][i] / copies,
                        NoiseTunnelType.SmoothGradSq => _pivot[j][i].square() + _s2![j][i] / copies,
                        _ => _s2![j][i] / copies - (_s1![j][i] / copies).square(),
                    };
            }
            return result;
        }
    }
}
