using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// DeepLIFT-SHAP (shap's <c>DeepExplainer</c> for PyTorch): for every explained sample x and background row r, DeepLIFT
/// with the rescale rule through each nonlinearity (shap's rules for softmax and max-pooling; linear layers pass
/// through), attributions (x − r) · multiplier averaged over the background. The attributions of each output add up
/// to f(x) − E[f(background)], which <see cref="DeepExplainOptions.CheckAdditivity"/> verifies.
/// </summary>
/// <remarks>
/// Nonlinear modules are found through the model's module tree and hooked; TorchSharp built-in modules without a
/// rule (e.g. GELU, LayerNorm) are rejected in the constructor with their path. Nonlinearities called as functions
/// inside <c>forward</c> are invisible unless written with <see cref="DeepLiftOps"/>; the additivity check reports them.
/// During a call the model is put in eval mode and in-place activations run out of place; both are restored after.
/// One explainer may be used from one thread at a time; two explainers may run on one model concurrently only when
/// the model is in eval mode and has no in-place activations (nothing is switched then).
/// </remarks>
public sealed class DeepExplainer : IDisposable
{
    private const string Engine = nameof(DeepExplainer);
    private readonly ExplainableModel _model;
    private readonly Tensor[] _background;
    private readonly long[][] _sampleShapes;
    private readonly IReadOnlyList<string>? _inputNames;
    private readonly DeepLiftModules _modules;
    private readonly Tensor _expected;
    private readonly Device _device;
    private readonly ScalarType _dtype;
    private readonly ScalarType[] _inputTypes;
    private bool _disposed;

    /// <summary>Creates an explainer over <paramref name="background"/> and computes E[f(background)] (in batches, at once).</summary>
    /// <param name="model">The model; its module tree (when it has one) is searched for nonlinear modules.</param>
    /// <param name="background">One batched tensor per model input, same row count: the references integrated over.
    /// The explainer keeps its own handles (detached aliases): the caller may dispose its handles, but must not modify
    /// the data in place while the explainer lives.</param>
    /// <param name="labels">Names of the model outputs, one per output, or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages, or null.</param>
    /// <exception cref="NotSupportedException">The model holds a module with no DeepLIFT rule (named by its path).</exception>
    /// <exception cref="ArgumentException">The background is empty, has the wrong input count, dtype or device, or non-finite values.</exception>
    public DeepExplainer(ExplainableModel model, Tensor[] background, IReadOnlyList<string>? labels = null,
                         IReadOnlyList<string>? inputNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        Labels = labels;
        _inputNames = inputNames;
        (_, _device) = EngineChecks.Background(model, background, inputNames);
        _dtype = background[0].dtype;
        _inputTypes = background.Select(t => t.dtype).ToArray();
        for (int i = 1; i < background.Length; i++)
            if (background[i].dtype != _dtype)
                throw new ArgumentException(
                    $"'background' {InputValidation.InputName(i, inputNames)} is {background[i].dtype}; input 0 is {_dtype}: every input needs one dtype.",
                    nameof(background));
        _sampleShapes = InputValidation.SampleShapes(background);
        _modules = new DeepLiftModules(model.Module, this);
        try
        {
            _background = background.Select(t => t.detach()).ToArray();
            _expected = ComputeExpected();
            EngineChecks.Labels(labels, _expected.shape[0]);
        }
        catch
        {
            _modules.Dispose();
            foreach (var t in _background ?? Array.Empty<Tensor>()) t.Dispose();
            _expected?.Dispose();
            throw;
        }
    }

    /// <summary>E[f(background)] per model output, [K] (shap's <c>expected_value</c>). Owned by the explainer.</summary>
    public Tensor ExpectedValues
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _expected;
        }
    }

    /// <summary>Number of model outputs K.</summary>
    public int OutputCount => (int)_expected.shape[0];

    /// <summary>Names of the model outputs, when given.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Number of background rows.</summary>
    public long BackgroundCount => _background[0].shape[0];

    /// <summary>Number of nonlinear modules hooked in the model.</summary>
    public int HookedModuleCount => _modules.Count;

    /// <summary>
    /// Explains <paramref name="inputs"/>: for each explained output (all K, or each sample's top
    /// <see cref="ExplainOptions.RankedOutputs"/>) and each input, attributions shaped like that input's batch.
    /// </summary>
    /// <param name="inputs">One batched tensor per model input, with the background's per-sample shapes, dtype and device.</param>
    /// <param name="options">Ranked outputs, batch cap (a batch holds at least one pair: 2 rows), progress, additivity
    /// check; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch and between the per-output backward passes;
    /// cancelling frees what the call allocated.</param>
    /// <exception cref="DeepLiftAdditivityException">The additivity check failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public Explanation Explain(Tensor[] inputs, DeepExplainOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= new DeepExplainOptions();
        EngineChecks.Options(options, OutputCount);
        long n = EngineChecks.Inputs(inputs, _sampleShapes, _inputTypes, _device, _inputNames);
        cancellationToken.ThrowIfCancellationRequested();

        long b = BackgroundCount;
        long total = n * b;
        long pairsPerChunk = PairsPerChunk(options);
        using var prepared = _modules.Prepare();
        using var outer = NewDisposeScope();
        var xs = inputs.Select(t => t.detach()).ToArray();
        var fx = ForwardNoGrad(xs);
        EngineChecks.Output(fx, n, OutputCount);
        EngineChecks.Finite(fx, nameof(inputs), 0, Labels);
        var order = OutputRanking.Select(fx, options.RankedOutputs, options.OutputRankOrder);
        int explained = (int)order.shape[1];
        if (ReplicateOutputs && options.MaxBatchRows is null)
            pairsPerChunk = Math.Max(1, pairsPerChunk / explained);
        var sums = new Tensor[explained][];
        for (int j = 0; j < explained; j++)
            sums[j] = xs.Select(x => zeros_like(x)).ToArray();

        var cache = ReferenceCache(pairsPerChunk, options, cancellationToken);
        Batching.Run(total, pairsPerChunk, (start, count) =>
        {
            var pairs = arange(start, start + count, dtype: int64, device: _device);
            var sampleIds = pairs.div(b, rounding_mode: RoundingMode.floor);
            var backgroundIds = pairs.remainder(b);
            if (!RunPairs(xs, sampleIds, backgroundIds, order.index_select(0, sampleIds), sums, cancellationToken, cache: cache,
                          softmax: options.Softmax))
                EngineChecks.Attached(Engine, fx, _expected, Labels);
        }, options, cancellationToken, Engine);

        foreach (var row in sums)
            foreach (var t in row)
                t.div_(b);
        if (options.CheckAdditivity)
            CheckAdditivity(sums, fx, order);

        var values = sums.Select(row => row.Select(t => t.MoveToOuterDisposeScope()).ToArray()).ToArray();
        var expected = _expected.clone().MoveToOuterDisposeScope();
        var indexes = options.RankedOutputs is null ? null : order.MoveToOuterDisposeScope();
        return new Explanation(values, expected, null, indexes, Labels);
    }

    /// <summary>Frees the background copies, the expected values and the hooks on the model.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _modules.Dispose();
        foreach (var t in _background) t.Dispose();
        _expected.Dispose();
    }

    /// <summary>
    /// The same attributions computed the way shap's DeepExplainer structures the work: one sample at a time, one
    /// forward and backward per output, and the reference rows in the backward too (shap backpropagates its stacked
    /// [inputs; references] batch; their gradients are discarded). A baseline for benchmarks and a cross-check in
    /// tests; values[o][i].
    /// </summary>
    internal Tensor[][] ExplainOneSampleAtATime(Tensor[] inputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EngineChecks.Inputs(inputs, _sampleShapes, _inputTypes, _device, _inputNames);
        long n = inputs[0].shape[0], b = BackgroundCount, k = OutputCount;
        using var prepared = _modules.Prepare();
        var values = new Tensor[k][];
        var perSample = new List<Tensor>[k, inputs.Length];
        for (int o = 0; o < k; o++) for (int i = 0; i < inputs.Length; i++) perSample[o, i] = new List<Tensor>();
        var backgroundIds = arange(b, dtype: int64, device: _device);
        for (long s = 0; s < n; s++)
        {
            for (int o = 0; o < k; o++)
            {
                using var scope = NewDisposeScope();
                var sampleIds = full(b, s, dtype: int64, device: _device);
                var outputs = full(b, 1, o, dtype: int64, device: _device);
                var sums = new[] { inputs.Select(x => zeros(x.shape.Skip(1).Prepend(n).ToArray(), dtype: x.dtype, device: x.device)).ToArray() };
                RunPairs(inputs.Select(t => t.detach()).ToArray(), sampleIds, backgroundIds, outputs, sums, CancellationToken.None,
                         referencesCarryGradient: true);
                for (int i = 0; i < inputs.Length; i++)
                    perSample[o, i].Add((sums[0][i][s] / b).MoveToOuterDisposeScope());
            }
        }
        backgroundIds.Dispose();
        for (int o = 0; o < k; o++)
        {
            values[o] = new Tensor[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                values[o][i] = stack(perSample[o, i], 0);
                foreach (var t in perSample[o, i]) t.Dispose();
            }
        }
        return values;
    }

    /// <summary>
    /// Strategy for several explained outputs: false (default) runs one forward and one backward per output on the
    /// retained graph; true replicates the batch once per output and runs one forward and one backward. Internal so
    /// the W3 benchmark can compare them.
    /// </summary>
    internal bool ReplicateOutputs { get; set; }

    /// <summary>
    /// Runs the reference pass once over the whole background and keeps every nonlinearity's input, so that batches
    /// only gather their rows instead of re-running the model on them. Null (each batch runs its own reference pass)
    /// when the cache would exceed half the memory budget or the background rows take different paths.
    /// </summary>
    private List<(Tensor Input, string Where)>? ReferenceCache(long pairsPerChunk, ExplainOptions options, CancellationToken cancellationToken)
    {
        long rows = BackgroundCount;
        long chunk = Math.Max(1, 2 * pairsPerChunk);
        long budget = Batching.BudgetBytes(_device, options) / 2;
        List<List<Tensor>>? parts = null;
        List<string>? wheres = null;
        for (long r0 = 0; r0 < rows; r0 += chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long r = Math.Min(chunk, rows - r0);
            using var chunkScope = NewDisposeScope();
            var context = new DeepLiftContext(this, r);
            using (context.Enter())
            using (no_grad())
                _model.Forward(_background.Select(t => t.narrow(0, r0, r)).ToArray());
            var recorded = context.References;
            if (parts is null || wheres is null)
            {
                double bytesPerRow = recorded.Sum(x => (double)x.Input.numel() * x.Input.ElementSize) / r;
                if (bytesPerRow * rows > budget)
                {
                    options.Logger.LogFallback(Engine, $"no reference cache: it would take {bytesPerRow * rows:F0} bytes, over half the budget ({budget}).");
                    return null;
                }
                wheres = recorded.Select(x => x.Where).ToList();
                parts = recorded.Select(_ => new List<Tensor>()).ToList();
            }
            else if (!recorded.Select(x => x.Where).SequenceEqual(wheres))
            {
                options.Logger.LogFallback(Engine, "no reference cache: background rows take different paths through the model.");
                return null;
            }
            for (int i = 0; i < recorded.Count; i++)
                parts[i].Add(recorded[i].Input.MoveToOuterDisposeScope());
        }
        var cache = new List<(Tensor Input, string Where)>();
        for (int i = 0; i < wheres!.Count; i++)
        {
            if (parts![i].Count == 1)
            {
                cache.Add((parts[i][0], wheres[i]));
                continue;
            }
            cache.Add((cat(parts[i], 0), wheres[i]));
            foreach (var t in parts[i]) t.Dispose();
        }
        return cache;
    }

    /// <summary>Accumulates the pairs' contributions into <paramref name="sums"/>; false when the model output does
    /// not require grad (nothing is accumulated then).</summary>
    private bool RunPairs(Tensor[] xs, Tensor sampleIds, Tensor backgroundIds, Tensor outputs, Tensor[][] sums,
                          CancellationToken cancellationToken, bool referencesCarryGradient = false,
                          IReadOnlyList<(Tensor Input, string Where)>? cache = null,
                          DeepSoftmaxRule softmax = DeepSoftmaxRule.ShapleySplit)
    {
        long p = sampleIds.shape[0];
        int explained = (int)outputs.shape[1];
        int copies = ReplicateOutputs ? explained : 1;
        var rowSamples = copies == 1 ? sampleIds : sampleIds.repeat(copies);
        var rowBackground = copies == 1 ? backgroundIds : backgroundIds.repeat(copies);
        long rows = p * copies;
        var xp = new Tensor[xs.Length];
        var rp = new Tensor[xs.Length];
        var delta = new Tensor[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            xp[i] = xs[i].index_select(0, rowSamples).requires_grad_(true);
            rp[i] = _background[i].index_select(0, rowBackground);
            delta[i] = xp[i].detach() - rp[i];
            if (referencesCarryGradient)
                rp[i].requires_grad_(true);
        }
        var context = new DeepLiftContext(this, rows, softmax);
        Tensor output;
        Tensor? referenceOutput = null;
        using (context.Enter())
        {
            if (cache is not null && !referencesCarryGradient)
                context.Preload(cache.Select(c => (c.Input.index_select(0, rowBackground), c.Where)));
            else
            {
                using (IDisposable mode = referencesCarryGradient ? enable_grad() : no_grad())
                    referenceOutput = _model.Forward(rp);
                context.BeginExplainedPass();
            }
            using (enable_grad())
                output = _model.Forward(xp);
            context.CheckAllReferencesUsed();
        }
        if (!output.requires_grad)
            return false;
        long k = output.shape[1];
        // Accumulate only once every backward of the batch succeeded, so a batch retried after an error is not counted twice.
        var contributions = new Tensor?[explained, xs.Length];
        if (copies > 1)
        {
            // Block j of the replicated rows carries output outputs[:, j].
            var selected = outputs.t().reshape(-1, 1);
            var selector = zeros(rows, k, dtype: output.dtype, device: output.device)
                .scatter_(1, selected, ones(rows, 1, dtype: output.dtype, device: output.device));
            var grads = Gradients.Of(new[] { output }, new[] { selector }, xp, retainGraph: false);
            context.ThrowIfFailed();
            for (int i = 0; i < xs.Length; i++)
                if (grads[i] is { } g)
                {
                    var all = delta[i] * g;
                    for (int j = 0; j < explained; j++)
                        contributions[j, i] = all.narrow(0, j * p, p);
                }
        }
        else
        {
            var one = ones(p, 1, dtype: output.dtype, device: output.device);
            for (int j = 0; j < explained; j++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var selector = zeros(p, k, dtype: output.dtype, device: output.device).scatter_(1, outputs.narrow(1, j, 1), one);
                var grads = !referencesCarryGradient
                    ? Gradients.Of(new[] { output }, new[] { selector }, xp, retainGraph: j < explained - 1)
                    : Gradients.Of(new[] { output, referenceOutput! }, new[] { selector, selector }, xp.Concat(rp).ToArray(),
                                   retainGraph: j < explained - 1);
                context.ThrowIfFailed();
                for (int i = 0; i < xs.Length; i++)
                    if (grads[i] is { } g)
                        contributions[j, i] = delta[i] * g;
            }
        }
        for (int j = 0; j < explained; j++)
            for (int i = 0; i < xs.Length; i++)
                if (contributions[j, i] is { } c)
                    sums[j][i].index_add_(0, sampleIds, c, 1);
        return true;
    }

    private Tensor ForwardNoGrad(Tensor[] inputs)
    {
        using var noGrad = no_grad();
        return _model.Forward(inputs).detach();
    }

    private Tensor ComputeExpected()
    {
        using var prepared = _modules.Prepare();
        using var scope = NewDisposeScope();
        var mean = ModelEvaluation.MeanOutput(Engine, _background, (batch, _) => ForwardNoGrad(batch), new ExplainOptions(), Labels,
                                              CancellationToken.None, out _);
        return mean.to_type(_dtype).MoveToOuterDisposeScope();
    }

    private long PairsPerChunk(ExplainOptions options)
    {
        // Two rows per pair (explained and reference); activations and the DeepLIFT multipliers they keep for the
        // backward are assumed to take ActivationFactor times the input's bytes.
        const int ActivationFactor = 128;
        long perRow = Math.Max(1, _sampleShapes.Sum(s => s.Aggregate(1L, (a, d) => a * d)));
        double bytesPerRow = (double)perRow * _background[0].ElementSize * ActivationFactor;
        return Math.Max(1, Batching.RowsPerBatch(bytesPerRow, _device, options, Engine, minRows: 2) / 2);
    }

    private void CheckAdditivity(Tensor[][] values, Tensor fx, Tensor order)
    {
        using var scope = NewDisposeScope();
        double tolerance = _dtype == ScalarType.Float64 ? 1e-6 : 1e-2;
        int explained = values.Length;
        var totals = stack(values.Select(row => row.Select(t => t.flatten(1).sum(1)).Aggregate((a, c) => a + c)).ToArray(), 1);
        var target = fx.gather(1, order) - _expected.index_select(0, order.flatten()).view(order.shape);
        var gap = (target - totals).to_type(ScalarType.Float64);
        var worst = gap.abs().flatten().argmax().item<long>();
        long sample = worst / explained;
        int rank = (int)(worst % explained);
        double gapValue = gap[sample, rank].item<double>();
        if (!(Math.Abs(gapValue) <= tolerance))
        {
            long output = order[sample, rank].item<long>();
            string label = EngineChecks.OutputName(output, Labels);
            double fxValue = fx[sample, output].to_type(ScalarType.Float64).item<double>();
            double eValue = _expected[output].to_type(ScalarType.Float64).item<double>();
            string s = gapValue.ToString("G6", CultureInfo.InvariantCulture);
            throw new DeepLiftAdditivityException(
                $"DeepExplainer additivity check failed for {label} of sample {sample}: f(x) = " +
                $"{fxValue.ToString("G6", CultureInfo.InvariantCulture)}, E[f(background)] = {eValue.ToString("G6", CultureInfo.InvariantCulture)}, " +
                $"but the attributions sum to {(fxValue - eValue - gapValue).ToString("G6", CultureInfo.InvariantCulture)} (gap {s}, tolerance " +
                $"{tolerance.ToString(CultureInfo.InvariantCulture)}). Likely cause: a nonlinear operation DeepExplainer cannot see — a " +
                "functional call inside forward such as nn.functional.relu(x) or softmax (write it with DeepLiftOps, or use a module), a " +
                "child module invoked with .forward instead of .call (hooks do not fire), or an operation with no DeepLIFT rule. " +
                "Set CheckAdditivity = false to skip this check.", output, sample, gapValue);
        }
    }
}
