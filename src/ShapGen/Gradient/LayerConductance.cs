using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>Options of <see cref="LayerConductance.Explain"/> (Captum's <c>LayerConductance.attribute</c> arguments).</summary>
public sealed class LayerConductanceOptions : GradientMethodOptions
{
    private int _nsteps = 50;

    /// <summary>Creates options with the defaults.</summary>
    public LayerConductanceOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public LayerConductanceOptions(LayerConductanceOptions other) : base(other) => _nsteps = other._nsteps;

    /// <summary>Steps on the path from the baseline to the input (Captum's <c>n_steps</c>, default 50): the model runs
    /// at NSteps + 1 evenly spaced points, both ends included; at least 1.</summary>
    public int NSteps
    {
        get => _nsteps;
        set => _nsteps = OptionValue.Checked(value, value >= 1, nameof(NSteps), "NSteps must be at least 1.");
    }
}

/// <summary>
/// Captum's <c>LayerConductance</c>: the flow of a model output through each unit of one layer's output along the
/// straight path from the baseline b to the input x. With z(α) the layer's output at b + α(x − b) and
/// α_t = t / NSteps, conductance = Σ_{t &lt; NSteps} ∂f/∂z(α_t) ⊙ (z(α_{t+1}) − z(α_t)). Summed over the layer it
/// approaches f(x) − f(b), the integrated gradients total, as NSteps grows (at the rate 1/NSteps) when the output
/// depends on the input only through the layer.
/// </summary>
/// <remarks>
/// Captum evaluates the layer at NSteps + 1 points of the chosen rule (Gauss–Legendre by default), which do not
/// include the path's ends, so its sums do not telescope to f(x) − f(b); the evenly spaced grid used here does.
/// The layer is named as in <c>named_modules()</c> (as <c>[ExplainLayer]</c> names it), must take one tensor and be
/// invoked with <c>.call</c> exactly once per forward pass; the hook stays until the explainer is disposed. The
/// explanation has one "input": the layer's output, [N, …]; its expected values are f(b), averaged over the samples.
/// </remarks>
public sealed class LayerConductance : IDisposable
{
    private const string Engine = nameof(LayerConductance);
    private readonly ExplainableModel _model;
    private readonly LayerHook _layer;
    private readonly IReadOnlyList<string>? _inputNames;

    /// <summary>Hooks the output of <paramref name="layer"/> in <paramref name="model"/>.</summary>
    /// <param name="model">The model; its module is put in evaluation mode.</param>
    /// <param name="layer">The layer's path in <c>named_modules()</c>.</param>
    /// <param name="labels">Names of the model outputs, carried into explanations; or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages; or null.</param>
    /// <exception cref="ArgumentException">The model has no such layer, or it does not take one tensor.</exception>
    public LayerConductance(ExplainableModel model, string layer, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _layer = new LayerHook(model, layer, input: false, nameof(layer));
        Labels = labels;
        _inputNames = inputNames;
        model.Module?.eval();
    }

    /// <summary>The layer's path.</summary>
    public string Layer => _layer.Path;

    /// <summary>Names of the model outputs, when given.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Explains <paramref name="inputs"/> against <paramref name="baselines"/> in the layer's output.</summary>
    /// <param name="inputs">One batched tensor per model input, on the model's device and in its dtype.</param>
    /// <param name="baselines">As for <see cref="IntegratedGradients"/>: per input the per-sample shape or [1, …] (shared)
    /// or [N, …] (one per sample); null uses zeros.</param>
    /// <param name="options">Steps, target or ranking, batching; a noise tunnel is not supported.</param>
    /// <param name="cancellationToken">Checked before every batch and between the per-output backward passes.</param>
    /// <returns>An explanation with one input, the layer's output; the caller owns it.</returns>
    /// <exception cref="ArgumentException">An input, baseline or option is invalid; the message names it.</exception>
    /// <exception cref="InvalidOperationException">The layer is not called exactly once per forward pass.</exception>
    public Explanation Explain(Tensor[] inputs, Tensor[]? baselines = null, LayerConductanceOptions? options = null,
                               CancellationToken cancellationToken = default)
    {
        options ??= new LayerConductanceOptions();
        if (options.NoiseTunnel is not null)
            throw new ArgumentException("A noise tunnel is not supported by layer methods; set NoiseTunnel = null.", nameof(options));
        if (options.Target is not null && options.RankedOutputs is not null)
            throw new ArgumentException("Set either Target or RankedOutputs, not both.", nameof(options));
        long n = InputValidation.CheckBatch(inputs, nameof(inputs), _model.InputCount, null, _model.Device, _inputNames);
        cancellationToken.ThrowIfCancellationRequested();

        using var outer = NewDisposeScope();
        var references = InputValidation.Baselines(baselines, inputs, n, _inputNames);
        int points = options.NSteps + 1;
        var alphas = Enumerable.Range(0, points).Select(t => (double)t / options.NSteps).ToArray();
        long bytes = Batching.MeasureScopeBytes(() =>
        {
            using var grad = enable_grad();
            var (y, z) = Forward(PathPoints(inputs, references, 0, 1, alphas));
            Gradients.Of(new[] { Anchored(y.select(1, 0).sum(), z) }, null, new[] { z }, retainGraph: false);
        });
        long samplesPerBatch = Batching.RowsPerBatch(2.0 * bytes, inputs[0].device, options, Engine);

        Tensor[]? maps = null;
        Tensor? order = null, baselineOutputs = null;
        long outputs = 0;
        Batching.Run(n, samplesPerBatch, (start, count) =>
        {
            using var grad = enable_grad();
            var (y, z) = Forward(PathPoints(inputs, references, start, count, alphas));
            EngineChecks.Output(y, count * points, order is null ? null : outputs);
            if (order is null)
            {
                outputs = y.shape[1];
                EngineChecks.Labels(Labels, outputs);
                EngineChecks.Options(options, outputs);
                if (options.Target is int target && target >= outputs)
                    throw new ArgumentOutOfRangeException(nameof(options.Target), target,
                        $"Target must be between 0 and {outputs - 1} (the model has {outputs} outputs); it is {target}.");
            }
            var perSample = y.detach().view(count, points, outputs);
            EngineChecks.Finite(perSample.select(1, points - 1), nameof(inputs), start, Labels);
            EngineChecks.Finite(perSample.select(1, 0), nameof(baselines), start, Labels);
            var batchOrder = options.Target is int t0
                ? full(count, 1, (long)t0, dtype: int64, device: y.device)
                : OutputRanking.Select(perSample.select(1, points - 1), options.RankedOutputs, options.OutputRankOrder);
            var rowOrder = batchOrder.repeat_interleave(points, 0);
            var layerShape = z.shape.Skip(1).ToArray();
            var zs = z.detach().view(new[] { count, points }.Concat(layerShape).ToArray());
            var dz = zs.narrow(1, 1, points - 1) - zs.narrow(1, 0, points - 1);
            int k = (int)batchOrder.shape[1];
            var batchMaps = new Tensor[k];
            for (int j = 0; j < k; j++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var selected = Anchored(y.gather(1, rowOrder.narrow(1, j, 1)).sum(), z);
                var g = Gradients.Of(new[] { selected }, null, new[] { z }, retainGraph: j < k - 1)[0]!;
                batchMaps[j] = (g.view(zs.shape).narrow(1, 0, points - 1) * dz).sum(1);
            }
            if (maps is null)
            {
                maps = batchMaps.Select(m => zeros(new[] { n }.Concat(layerShape).ToArray(), dtype: m.dtype, device: m.device).MoveToOuterDisposeScope()).ToArray();
                order = zeros(n, k, dtype: int64, device: batchOrder.device).MoveToOuterDisposeScope();
                baselineOutputs = zeros(n, outputs, dtype: y.dtype, device: y.device).MoveToOuterDisposeScope();
            }
            for (int j = 0; j < k; j++) maps[j].narrow(0, start, count).copy_(batchMaps[j]);
            order!.narrow(0, start, count).copy_(batchOrder);
            baselineOutputs!.narrow(0, start, count).copy_(perSample.select(1, 0));
        }, options, cancellationToken, Engine);

        bool ranked = options.Target is not null || options.RankedOutputs is not null;
        var values = maps!.Select(m => new[] { m.MoveToOuterDisposeScope() }).ToArray();
        var expected = baselineOutputs!.mean(new long[] { 0 }).MoveToOuterDisposeScope();
        return new Explanation(values, expected, null, ranked ? order!.MoveToOuterDisposeScope() : null, Labels);
    }

    /// <summary>Removes the hook from the layer.</summary>
    public void Dispose() => _layer.Dispose();

    /// <summary>Rows b + α_t (x − b) for samples [start, start + count), ordered (sample, step).</summary>
    private static Tensor[] PathPoints(Tensor[] inputs, Tensor[] references, long start, long count, double[] alphas) =>
        inputs.Select((input, i) =>
        {
            var x = input.narrow(0, start, count).unsqueeze(1);
            var b = references[i].shape[0] == 1 ? references[i].unsqueeze(1) : references[i].narrow(0, start, count).unsqueeze(1);
            var a = tensor(alphas, dtype: float64).to(input.dtype).to(input.device)
                .view(new[] { 1L, alphas.Length }.Concat(Enumerable.Repeat(1L, (int)input.dim() - 1)).ToArray());
            return (b + a * (x - b)).reshape(new[] { count * alphas.Length }.Concat(input.shape.Skip(1)).ToArray());
        }).ToArray();

    /// <summary>Runs the model with the layer's output swapped for a leaf, so that ∂f/∂z is taken directly.</summary>
    private (Tensor Output, Tensor Layer) Forward(Tensor[] rows)
    {
        var y = _layer.Run(() => _model.Forward(rows), output => output.detach().requires_grad_(), out var layer);
        return (y, layer!);
    }

    /// <summary>Ties the layer leaf into the graph, so an output that does not depend on it gets a zero gradient.</summary>
    private static Tensor Anchored(Tensor selected, Tensor layer) => selected + layer.sum().mul(0).to_type(selected.dtype);
}
