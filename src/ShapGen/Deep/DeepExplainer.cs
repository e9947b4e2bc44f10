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
    private readonly ExplainableModel _model;
    private readonly Tensor[] _background;
    private readonly long[][] _sampleShapes;
    private readonly IReadOnlyList<string>? _labels;
    private readonly IReadOnlyList<string>? _inputNames;
    private readonly DeepLiftModules _modules;
    private readonly Tensor _expected;
    private readonly Device _device;
    private readonly ScalarType _dtype;
    private bool _disposed;

    /// <summary>Creates an explainer over <paramref name="background"/> and computes E[f(background)].</summary>
    /// <param name="model">The model; its module tree (when it has one) is searched for nonlinear modules.</param>
    /// <param name="background">One batched tensor per model input, same row count: the references integrated over.</param>
    /// <param name="labels">Names of the model outputs, or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages, or null.</param>
    /// <exception cref="NotSupportedException">The model holds a module with no DeepLIFT rule (named by its path).</exception>
    /// <exception cref="ArgumentException">The background is empty, has the wrong input count, dtype or device, or non-finite values.</exception>
    public DeepExplainer(ExplainableModel model, Tensor[] background, IReadOnlyList<string>? labels = null,
                         IReadOnlyList<string>? inputNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _labels = labels;
        _inputNames = inputNames;
        InputValidation.CheckBatch(background, nameof(background), model.InputCount, null, model.Device, inputNames);
        _device = background[0].device;
        _dtype = background[0].dtype;
        for (int i = 1; i < background.Length; i++)
            if (background[i].dtype != _dtype)
                throw new ArgumentException(
                    $"'background' {InputValidation.InputName(i, inputNames)} is {background[i].dtype}; input 0 is {_dtype}: every input needs one dtype.",
                    nameof(background));
        if (model.ParameterType is { } pt && pt != _dtype)
            throw new ArgumentException($"'background' is {_dtype} but the model's parameters are {pt}.", nameof(background));
        _sampleShapes = InputValidation.SampleShapes(background);
        _modules = new DeepLiftModules(model.Module, this);
        try
        {
            _background = background.Select(t => t.detach()).ToArray();
            _expected = ComputeExpected();
            if (labels is not null && labels.Count != _expected.shape[0])
                throw new ArgumentException($"'labels' has {labels.Count} names; the model has {_expected.shape[0]} outputs.", nameof(labels));
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
    public long OutputCount => _expected.shape[0];

    /// <summary>Number of background rows.</summary>
    public long BackgroundCount => _background[0].shape[0];

    /// <summary>Number of nonlinear modules hooked in the model.</summary>
    public int HookedModuleCount => _modules.Count;

    /// <summary>
    /// Explains <paramref name="inputs"/>: for each explained output (all K, or each sample's top
    /// <see cref="ExplainOptions.RankedOutputs"/>) and each input, attributions shaped like that input's batch.
    /// </summary>
    /// <param name="inputs">One batched tensor per model input, with the background's per-sample shapes, dtype and device.</param>
    /// <param name="options">Ranked outputs, batch cap, progress, additivity check; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch; cancelling frees what the call allocated.</param>
    /// <exception cref="DeepLiftAdditivityException">The additivity check failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public Explanation Explain(Tensor[] inputs, DeepExplainOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= new DeepExplainOptions();
        long n = InputValidation.CheckBatch(inputs, nameof(inputs), _model.InputCount, _sampleShapes, _device, _inputNames);
        CheckDtypes(inputs);
        long k = OutputCount;
        if (options.RankedOutputs is { } r && (r < 1 || r > k))
            throw new ArgumentOutOfRangeException(nameof(options), r,
                $"RankedOutputs must be between 1 and the model's {k} outputs; it is {r}.");
        if (options.MaxBatchRows is { } cap && cap < 2)
            throw new ArgumentOutOfRangeException(nameof(options), cap,
                $"MaxBatchRows must be at least 2 (one input row and its reference); it is {cap}.");
        cancellationToken.ThrowIfCancellationRequested();

        long b = BackgroundCount;
        long total = n * b;
        long pairsPerChunk = PairsPerChunk(options);
        using var prepared = _modules.Prepare();
        using var outer = NewDisposeScope();
        var xs = inputs.Select(t => t.detach()).ToArray();
        var fx = ForwardNoGrad(xs);
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
            RunPairs(xs, sampleIds, backgroundIds, order.index_select(0, sampleIds), sums, cache: cache);
        }, options, cancellationToken, "DeepExplainer");

        foreach (var row in sums)
            foreach (var t in row)
                t.div_(b);
        if (options.CheckAdditivity)
            CheckAdditivity(sums, fx, order);

        var values = sums.Select(row => row.Select(t => t.MoveToOuterDisposeScope()).ToArray()).ToArray();
        var expected = _expected.clone().MoveToOuterDisposeScope();
        var indexes = options.RankedOutputs is null ? null : order.MoveToOuterDisposeScope();
        return new Explanation(values, expected, null, indexes, _labels);
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
        InputValidation.CheckBatch(inputs, nameof(inputs), _model.InputCount, _sampleShapes, _device, _inputNames);
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
                RunPairs(inputs.Select(t => t.detach()).ToArray(), sampleIds, backgroundIds, outputs, sums, referencesCarryGradient: true);
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
                    return null;
                wheres = recorded.Select(x => x.Where).ToList();
                parts = recorded.Select(_ => new List<Tensor>()).ToList();
            }
            else if (!recorded.Select(x => x.Where).SequenceEqual(wheres))
                return null;
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

    private void RunPairs(Tensor[] xs, Tensor sampleIds, Tensor backgroundIds, Tensor outputs, Tensor[][] sums,
                          bool referencesCarryGradient = false, IReadOnlyList<(Tensor Input, string Where)>? cache = null)
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
        var context = new DeepLiftContext(this, rows);
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
            return; // the output does not depend on the inputs: all attributions stay zero
        long k = output.shape[1];
        // Accumulate only once every backward of the batch succeeded, so a batch retried after an error is not counted twice.
        var contributions = new Tensor?[explained, xs.Length];
        if (copies > 1)
        {
            // Block j of the replicated rows carries output outputs[:, j].
            var selected = outputs.t().reshape(-1, 1);
            var selector = zeros(rows, k, dtype: output.dtype, device: output.device)
                .scatter_(1, selected, ones(rows, 1, dtype: output.dtype, device: output.device));
            var grads = autograd.grad(new[] { output }, xp, new[] { selector }, allow_unused: true);
            context.ThrowIfFailed();
            for (int i = 0; i < xs.Length; i++)
                if (grads[i] is { IsInvalid: false } g)
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
                var selector = zeros(p, k, dtype: output.dtype, device: output.device).scatter_(1, outputs.narrow(1, j, 1), one);
                var grads = !referencesCarryGradient
                    ? autograd.grad(new[] { output }, xp, new[] { selector }, retain_graph: j < explained - 1, allow_unused: true)
                    : autograd.grad(new[] { output, referenceOutput! }, xp.Concat(rp).ToArray(), new[] { selector, selector },
                                    retain_graph: j < explained - 1, allow_unused: true);
                context.ThrowIfFailed();
                for (int i = 0; i < xs.Length; i++)
                    if (grads[i] is { IsInvalid: false } g)
                        contributions[j, i] = delta[i] * g;
            }
        }
        for (int j = 0; j < explained; j++)
            for (int i = 0; i < xs.Length; i++)
                if (contributions[j, i] is { } c)
                    sums[j][i].index_add_(0, sampleIds, c, 1);
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
        long rows = _background[0].shape[0];
        long chunk = Math.Max(1, 2 * PairsPerChunk(new ExplainOptions()));
        Tensor? sum = null;
        for (long r0 = 0; r0 < rows; r0 += chunk)
        {
            long r = Math.Min(chunk, rows - r0);
            var part = ForwardNoGrad(_background.Select(t => t.narrow(0, r0, r)).ToArray()).sum(new long[] { 0 });
            sum = sum is null ? part : sum + part;
        }
        return (sum! / rows).MoveToOuterDisposeScope();
    }

    private long PairsPerChunk(ExplainOptions options)
    {
        // Two rows per pair (explained and reference); activations and the DeepLIFT multipliers they keep for the
        // backward are assumed to take ActivationFactor times the input's bytes.
        const int ActivationFactor = 128;
        long perRow = Math.Max(1, _sampleShapes.Sum(s => s.Aggregate(1L, (a, d) => a * d)));
        double bytesPerRow = (double)perRow * _background[0].ElementSize * ActivationFactor;
        return Math.Max(1, Batching.RowsPerBatch(bytesPerRow, _device, options, minRows: 2) / 2);
    }

    private void CheckDtypes(Tensor[] inputs)
    {
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].dtype != _dtype)
                throw new ArgumentException(
                    $"'inputs' {InputValidation.InputName(i, _inputNames)} is {inputs[i].dtype}; the background is {_dtype}.",
                    nameof(inputs));
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
            string label = _labels is not null ? $"'{_labels[(int)output]}' (model output {output})" : $"model output {output}";
            double fxValue = fx[sample, output].to_type(ScalarType.Float64).item<double>();
            double eValue = _expected[output].to_type(ScalarType.Float64).item<double>();
            string s = gapValue.ToString("G6", CultureInfo.InvariantCulture);
            throw new DeepLiftAdditivityException(
                $"DeepExplainer additivity check failed for output {label} of sample {sample}: f(x) = " +
                $"{fxValue.ToString("G6", CultureInfo.InvariantCulture)}, E[f(background)] = {eValue.ToString("G6", CultureInfo.InvariantCulture)}, " +
                $"but the attributions sum to {(fxValue - eValue - gapValue).ToString("G6", CultureInfo.InvariantCulture)} (gap {s}, tolerance " +
                $"{tolerance.ToString(CultureInfo.InvariantCulture)}). Likely cause: a nonlinear operation DeepExplainer cannot see — a " +
                "functional call inside forward such as nn.functional.relu(x) or softmax (write it with DeepLiftOps, or use a module), a " +
                "child module invoked with .forward instead of .call (hooks do not fire), or an operation with no DeepLIFT rule. " +
                "Set CheckAdditivity = false to skip this check.", output, sample, gapValue);
        }
    }
}
