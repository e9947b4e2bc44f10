using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>Options of <see cref="GradCam.Explain"/> (Captum's <c>LayerGradCam.attribute</c> arguments).</summary>
public sealed class GradCamOptions : ExplainOptions
{
    /// <summary>Creates options with the defaults.</summary>
    public GradCamOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public GradCamOptions(GradCamOptions other) : base(other)
    {
        ReluAttributions = other.ReluAttributions;
        Upsample = other.Upsample;
    }

    /// <summary>Apply ReLU to the map (Captum's <c>relu_attributions</c>, default false; the Grad-CAM paper applies it).</summary>
    public bool ReluAttributions { get; set; }

    /// <summary>
    /// Upsample the map bilinearly to the height and width of the first model input shaped [N, C, H, W] (Captum's
    /// <c>LayerAttribution.interpolate(attr, (H, W), "bilinear")</c>), default true, so that it overlays the image;
    /// false returns the map at the layer's resolution.
    /// </summary>
    public bool Upsample { get; set; } = true;
}

/// <summary>
/// Grad-CAM (Captum's <c>LayerGradCam</c>) on a convolutional layer: with A the layer's output [C, H, W] per sample,
/// channel weights w_c = mean over (h, w) of ∂f/∂A_c, and the map Σ_c w_c·A_c, [N, 1, h, w], optionally through
/// ReLU and upsampled to the input image. The layer is named as in <c>named_modules()</c>, as
/// <c>[ExplainLayer]</c> names it, and must be invoked with <c>.call</c> exactly once per forward pass.
/// </summary>
/// <remarks>
/// The explainer hooks the layer until it is disposed. The explanation has one "input": the map. Grad-CAM has no
/// reference point, so the explanation's expected values are 0. One explainer may be used from several threads.
/// </remarks>
public sealed class GradCam : IDisposable
{
    private const string Engine = nameof(GradCam);
    private readonly ExplainableModel _model;
    private readonly string _layerPath;
    private readonly LayerHook _layer;
    private readonly IReadOnlyList<string>? _inputNames;
    private bool _disposed;

    /// <summary>Hooks the output of <paramref name="layer"/> in <paramref name="model"/>.</summary>
    /// <param name="model">The model; its module is put in evaluation mode.</param>
    /// <param name="layer">The layer's path in <c>named_modules()</c> (e.g. <c>"conv"</c> or <c>"features.28"</c>).</param>
    /// <param name="labels">Names of the model outputs, carried into explanations; or null.</param>
    /// <param name="inputNames">Names of the model inputs for messages; or null.</param>
    /// <exception cref="ArgumentException">The model has no such layer, or it does not take one tensor.</exception>
    public GradCam(ExplainableModel model, string layer, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(layer);
        _model = model;
        _layerPath = layer;
        Labels = labels;
        _inputNames = inputNames;
        _layer = new LayerHook(model, layer, input: false, nameof(layer));
        model.Module?.eval();
    }

    /// <summary>Names of the model outputs, when given.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Explains <paramref name="inputs"/>: one Grad-CAM map per explained output (all, or the ranked ones).</summary>
    /// <param name="inputs">One batched tensor per model input, on the model's device and in its dtype.</param>
    /// <param name="options">ReLU, upsampling, ranking, batching; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every batch and between the per-output backward passes.</param>
    /// <returns>An explanation the caller owns, with one input: the maps [N, 1, H, W].</returns>
    /// <exception cref="ArgumentException">An input is invalid; the message names it.</exception>
    /// <exception cref="InvalidOperationException">The layer's output is not [N, C, H, W], the layer is not called exactly
    /// once per forward pass, or the output does not depend on the layer.</exception>
    public Explanation Explain(Tensor[] inputs, GradCamOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= new GradCamOptions();
        long n = InputValidation.CheckBatch(inputs, nameof(inputs), _model.InputCount, null, _model.Device, _inputNames);
        long[]? size = null;
        if (options.Upsample)
        {
            var image = inputs.FirstOrDefault(t => t.dim() == 4)
                ?? throw new ArgumentException(
                    "Upsample needs a model input shaped [N, C, H, W] to take the size from; none is. Set Upsample = false for the layer-sized map.",
                    nameof(options));
            size = new[] { image.shape[2], image.shape[3] };
        }
        cancellationToken.ThrowIfCancellationRequested();

        using var outer = NewDisposeScope();
        Tensor? order = null;
        Tensor[]? maps = null;
        long outputs = 0;
        long probe = Math.Min(n, 2);
        long bytes = Batching.MeasureScopeBytes(() =>
        {
            using var grad = enable_grad();
            var (y, activation) = Forward(inputs.Select(t => t.narrow(0, 0, probe)).ToArray());
            Gradients.Of(new[] { y.select(1, 0).sum() + activation.sum().mul(0).to_type(y.dtype) }, null, new[] { activation }, retainGraph: false);
        });
        long rows = Batching.RowsPerBatch(2.0 * bytes / probe, inputs[0].device, options, Engine);
        Batching.Run(n, rows, (start, count) =>
        {
            using var grad = enable_grad();
            var (y, activation) = Forward(inputs.Select(t => t.narrow(0, start, count)).ToArray());
            EngineChecks.Output(y, count, order is null ? null : outputs);
            if (order is null)
            {
                outputs = y.shape[1];
                EngineChecks.Labels(Labels, outputs);
                EngineChecks.Options(options, outputs);
            }
            EngineChecks.Finite(y, nameof(inputs), start, Labels);
            var batchOrder = OutputRanking.Select(y.detach(), options.RankedOutputs, options.OutputRankOrder);
            if (!y.requires_grad)
                throw new InvalidOperationException($"{Engine}: the model's output does not depend on layer '{_layerPath}' through autograd (a .detach() or no_grad() after it).");
            int k = (int)batchOrder.shape[1];
            var batchMaps = new Tensor[k];
            for (int j = 0; j < k; j++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var selected = y.gather(1, batchOrder.narrow(1, j, 1)).sum() + activation.sum().mul(0).to_type(y.dtype);
                var g = Gradients.Of(new[] { selected }, null, new[] { activation }, retainGraph: j < k - 1)[0]!;
                var weights = g.mean(new long[] { 2, 3 }, keepdim: true);
                var map = (weights * activation.detach()).sum(1, keepdim: true);
                if (options.ReluAttributions) map = nn.functional.relu(map);
                if (size is not null)
                    map = nn.functional.interpolate(map, size: size, mode: InterpolationMode.Bilinear, align_corners: false);
                batchMaps[j] = map;
            }
            if (maps is null)
            {
                maps = batchMaps.Select(m => zeros(new[] { n }.Concat(m.shape.Skip(1)).ToArray(), dtype: m.dtype, device: m.device)
                                              .MoveToOuterDisposeScope()).ToArray();
                order = zeros(n, k, dtype: int64, device: batchOrder.device).MoveToOuterDisposeScope();
            }
            for (int j = 0; j < k; j++) maps[j].narrow(0, start, count).copy_(batchMaps[j]);
            order!.narrow(0, start, count).copy_(batchOrder);
        }, options, cancellationToken, Engine);

        var values = maps!.Select(m => new[] { m.MoveToOuterDisposeScope() }).ToArray();
        var expected = zeros(outputs, dtype: maps![0].dtype, device: maps[0].device).MoveToOuterDisposeScope();
        var indexes = options.RankedOutputs is null ? null : order!.MoveToOuterDisposeScope();
        return new Explanation(values, expected, null, indexes, Labels);
    }

    /// <summary>Removes the hook from the layer.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _layer.Dispose();
    }

    /// <summary>Runs the model with the layer's output swapped for a leaf, so that ∂f/∂A is taken directly.</summary>
    private (Tensor Output, Tensor Activation) Forward(Tensor[] inputs)
    {
        var y = _layer.Run(() => _model.Forward(inputs), output => output.dim() == 4
            ? output.detach().requires_grad_()
            : throw new InvalidOperationException(
                $"Grad-CAM needs a layer whose output is [N, C, H, W] (a convolutional layer); layer '{_layerPath}' returns " +
                $"{Shapes.Format(output.shape)}."), out var activation);
        return (y, activation!);
    }
}
