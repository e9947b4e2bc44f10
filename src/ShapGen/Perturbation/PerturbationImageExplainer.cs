using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// The perturbation methods on one image, as DIANNA's <c>explain_image</c> calls them, for any one-input image model
/// (TorchSharp module, delegate or ONNX adapter; <c>OnnxExplain</c> reads the layout from the file). Each returns the
/// <see cref="ImageExplanation"/> KernelSHAP's image path returns, so <c>ImagePlot.Save</c> draws them alike:
/// per requested label a heatmap [H, W] (the mean over channels of the method's map; the sum for the additive
/// Partition explainer), the per-segment values in <see cref="ImageExplanation.ShapleyValues"/> (superpixels for LIME
/// and feature ablation, single pixels for RISE, occlusion and Partition), <see cref="ImageExplanation.BaseValues"/> = f(baseline image) and
/// <see cref="ImageExplanation.ModelOutputs"/> = f(image).
/// </summary>
public static class PerturbationImageExplainer
{
    /// <summary>RISE saliency maps of one image (DIANNA's <c>method="RISE"</c>).</summary>
    /// <param name="model">A one-input model taking [N, C, H, W] or [N, H, W, C] (see <paramref name="modelLayout"/>).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>), or one of these with a batch of 1.</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">NMasks, FeatureRes, PKeep, baseline, seed, batching; its Layout is replaced by the model's.</param>
    /// <param name="axisLabels">Names of the image's axes (DIANNA's <c>axis_labels</c>); null guesses the channel axis.</param>
    /// <param name="modelLayout">The model's input layout; null uses the image's own.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Rise(ExplainableModel model, Tensor image, IReadOnlyList<int> labels, RiseOptions? options = null,
                                        IReadOnlyList<string>? axisLabels = null, ImageLayout? modelLayout = null,
                                        CancellationToken cancellationToken = default) =>
        Run(model, image, labels, axisLabels, modelLayout, slic: null, (sample, layout, _, _) =>
            new ShapGen.Rise(model).Explain(new[] { sample }, new RiseOptions(options ?? new RiseOptions()) { Layout = layout }, cancellationToken),
            cancellationToken);

    /// <summary>LIME on SLIC superpixels of one image (lime's <c>LimeImageExplainer</c>, DIANNA's <c>method="LIME"</c>): each superpixel's coefficient.</summary>
    /// <param name="model">A one-input model taking [N, C, H, W] or [N, H, W, C] (see <paramref name="modelLayout"/>).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>), or one of these with a batch of 1.</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">NumSamples, KernelWidth, NumFeatures, Alpha, seed, batching; its FeatureGroups are replaced by the superpixels.</param>
    /// <param name="slic">SLIC options (lime's default segmentation is quickshift; DIANNA's tutorials pass SLIC); null for the defaults.</param>
    /// <param name="hideColor">lime's <c>hide_color</c>: the value of a hidden superpixel; null (lime's default) uses each superpixel's mean colour.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="modelLayout">The model's input layout; null uses the image's own.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Lime(ExplainableModel model, Tensor image, IReadOnlyList<int> labels, LimeOptions? options = null,
                                        SlicOptions? slic = null, double? hideColor = null, IReadOnlyList<string>? axisLabels = null,
                                        ImageLayout? modelLayout = null, CancellationToken cancellationToken = default)
    {
        if (hideColor is double v && !double.IsFinite(v)) throw new ArgumentException($"hideColor must be finite; it is {v}.", nameof(hideColor));
        return Run(model, image, labels, axisLabels, modelLayout, slic ?? new SlicOptions(), (sample, layout, segmentation, groups) =>
        {
            var hidden = hideColor is double value ? full_like(sample, value) : SegmentMeans(sample, layout, segmentation!);
            var limeOptions = new LimeOptions(options ?? new LimeOptions()) { FeatureGroups = groups, Baselines = new[] { hidden } };
            return new ShapGen.Lime(model).Explain(new[] { sample }, limeOptions, cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Feature ablation of SLIC superpixels of one image (Captum's <c>FeatureAblation</c> with a superpixel <c>feature_mask</c>).</summary>
    /// <param name="model">A one-input model taking [N, C, H, W] or [N, H, W, C] (see <paramref name="modelLayout"/>).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>), or one of these with a batch of 1.</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">Baseline, batching; its FeatureGroups are replaced by the superpixels.</param>
    /// <param name="slic">SLIC options; null for the defaults.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="modelLayout">The model's input layout; null uses the image's own.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation FeatureAblation(ExplainableModel model, Tensor image, IReadOnlyList<int> labels, FeatureAblationOptions? options = null,
                                                   SlicOptions? slic = null, IReadOnlyList<string>? axisLabels = null,
                                                   ImageLayout? modelLayout = null, CancellationToken cancellationToken = default) =>
        Run(model, image, labels, axisLabels, modelLayout, slic ?? new SlicOptions(), (sample, _, _, groups) =>
            new ShapGen.FeatureAblation(model).Explain(new[] { sample },
                new FeatureAblationOptions(options ?? new FeatureAblationOptions()) { FeatureGroups = groups }, cancellationToken),
            cancellationToken);

    /// <summary>
    /// Occlusion of one image (Captum's <c>Occlusion</c>): square windows over all channels. With no window shapes in
    /// <paramref name="options"/>, windows of ⌈H/8⌉×⌈W/8⌉ pixels step by half a window.
    /// </summary>
    /// <param name="model">A one-input model taking [N, C, H, W] or [N, H, W, C] (see <paramref name="modelLayout"/>).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>), or one of these with a batch of 1.</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">Window shapes and strides in the model's sample layout (or null for the default), baseline, batching.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="modelLayout">The model's input layout; null uses the image's own.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Occlusion(ExplainableModel model, Tensor image, IReadOnlyList<int> labels, OcclusionOptions? options = null,
                                             IReadOnlyList<string>? axisLabels = null, ImageLayout? modelLayout = null,
                                             CancellationToken cancellationToken = default) =>
        Run(model, image, labels, axisLabels, modelLayout, slic: null, (sample, layout, _, _) =>
        {
            var occlusionOptions = new OcclusionOptions(options ?? new OcclusionOptions());
            if (occlusionOptions.SlidingWindowShapes is null)
            {
                long[] dims = sample.shape.Skip(1).ToArray();
                int hAxis = layout == ImageLayout.ChannelsFirst ? 1 : 0, cAxis = layout == ImageLayout.ChannelsFirst ? 0 : 2;
                var window = (long[])dims.Clone();
                var stride = (long[])dims.Clone();
                for (int axis = hAxis; axis < hAxis + 2; axis++)
                {
                    window[axis] = (dims[axis] + 7) / 8;
                    stride[axis] = Math.Max(1, window[axis] / 2);
                }
                stride[cAxis] = 1;
                occlusionOptions.SlidingWindowShapes = new[] { window };
                occlusionOptions.Strides = new[] { stride };
            }
            return new ShapGen.Occlusion(model).Explain(new[] { sample }, occlusionOptions, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// shap's Partition explainer on one image (<c>shap.Explainer(f, shap.maskers.Image("blur(128,128)", shape))</c>):
    /// Owen values over shap's recursive split of the pixel grid, each pixel's value summed over its channels, so every
    /// heatmap adds up to f(image) − f(masked image) exactly.
    /// </summary>
    /// <param name="model">A one-input model taking [N, C, H, W] or [N, H, W, C] (see <paramref name="modelLayout"/>).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>), or one of these with a batch of 1.</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">MaxEvals, the masker (<see cref="PartitionOptions.Blur"/> or the baseline), batching; its Layout is replaced by the model's.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="modelLayout">The model's input layout; null uses the image's own.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Partition(ExplainableModel model, Tensor image, IReadOnlyList<int> labels, PartitionOptions? options = null,
                                             IReadOnlyList<string>? axisLabels = null, ImageLayout? modelLayout = null,
                                             CancellationToken cancellationToken = default) =>
        Run(model, image, labels, axisLabels, modelLayout, slic: null, (sample, layout, _, _) =>
            new ShapGen.Partition(model).Explain(new[] { sample }, new PartitionOptions(options ?? new PartitionOptions()) { Layout = layout }, cancellationToken),
            cancellationToken, sumChannels: true);

    /// <summary>
    /// Checks the model, image and labels, builds the model's sample [1, …] and (when <paramref name="slic"/> is given)
    /// the superpixels, runs the method and gathers the requested labels' maps.
    /// </summary>
    internal static ImageExplanation Run(ExplainableModel model, Tensor image, IReadOnlyList<int> labels, IReadOnlyList<string>? axisLabels,
                                         ImageLayout? modelLayout, SlicOptions? slic,
                                         Func<Tensor, ImageLayout, Segmentation?, KernelFeatureGroups?, Explanation> explain,
                                         CancellationToken cancellationToken, bool sumChannels = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(labels);
        if (model.InputCount != 1)
            throw new ArgumentException($"Image explanation needs a one-input model; this one takes {model.InputCount}.", nameof(model));
        if (labels.Count == 0) throw new ArgumentException("labels must name at least one model output.", nameof(labels));
        if (image.IsInvalid) throw new ObjectDisposedException(nameof(image), "The image tensor has been disposed.");
        cancellationToken.ThrowIfCancellationRequested();

        using var scope = NewDisposeScope();
        var (hwc, imageLayout) = KernelImageExplainer.ToChannelsLast(image, axisLabels);
        int h = (int)hwc.shape[0], w = (int)hwc.shape[1], c = (int)hwc.shape[2];
        if (h == 0 || w == 0 || c == 0)
            throw new ArgumentException(
                $"image has no pixels: shape {Shapes.Format(image.shape)} ({h}×{w}, {c} channels); it needs at least one pixel and one channel.", nameof(image));
        var layout = modelLayout ?? imageLayout;
        var dtype = image.is_floating_point() ? image.dtype : float32;
        var sample = (layout == ImageLayout.ChannelsFirst ? hwc.permute(2, 0, 1) : hwc).to_type(dtype).contiguous().unsqueeze(0)
            .to(model.Device ?? image.device);

        Segmentation? segmentation = null;
        KernelFeatureGroups? groups = null;
        if (slic is not null)
        {
            var pixels = hwc.to_type(float64).cpu().contiguous().data<double>().ToArray();
            if (pixels.Any(v => !double.IsFinite(v))) throw new ArgumentException("image contains NaN or infinite values.", nameof(image));
            segmentation = Slic.Segment(pixels, h, w, c, slic);
            groups = KernelFeatureGroups.FromSegmentation(segmentation, layout, c);
        }

        using var explanation = explain(sample, layout, segmentation, groups);
        foreach (int label in labels)
            if (label < 0 || label >= explanation.OutputCount)
                throw new ArgumentOutOfRangeException(nameof(labels), label,
                    $"Label {label} is out of range: the model has {explanation.OutputCount} outputs (0..{explanation.OutputCount - 1}).");
        int k = explanation.OutputCount;
        var ids = labels.ToArray();
        segmentation ??= new Segmentation(Enumerable.Range(0, h * w).ToArray(), h, w);
        int m = segmentation.Count;
        var seg = segmentation.Labels;
        var values = new double[1, k, m];
        for (int o = 0; o < k; o++)
        {
            var map = explanation[o, 0][0].to_type(float64);
            var channelAxis = new long[] { layout == ImageLayout.ChannelsFirst ? 0 : 2 };
            var perPixel = (sumChannels ? map.sum(channelAxis) : map.mean(channelAxis)).cpu().contiguous().data<double>().ToArray();
            for (int p = 0; p < perPixel.Length; p++) values[0, o, seg[p]] = perPixel[p]; // one value per segment
        }
        double[] fx;
        using (no_grad()) fx = model.Forward(new[] { sample }).reshape(-1).to_type(float64).cpu().data<double>().ToArray();
        var fb = explanation.ExpectedValues.reshape(-1).to_type(float64).cpu().data<double>().ToArray();
        var outputs = new double[1, k];
        for (int o = 0; o < k; o++) outputs[0, o] = fx[o];
        var features = new KernelFeatureAttributions(values, outputs, fb, new[] { 0 }, new[] { false });
        return new ImageExplanation(segmentation, ids, ids.Select(l => features.Values(0, l)).ToArray(),
                                    ids.Select(l => fb[l]).ToArray(), ids.Select(l => fx[l]).ToArray(), features);
    }

    /// <summary>lime's default hidden value: each superpixel's mean colour, per channel, as a [1, …] sample.</summary>
    private static Tensor SegmentMeans(Tensor sample, ImageLayout layout, Segmentation segmentation)
    {
        var hwc = layout == ImageLayout.ChannelsFirst ? sample[0].permute(1, 2, 0) : sample[0];
        long h = hwc.shape[0], w = hwc.shape[1], c = hwc.shape[2];
        var labels = tensor(segmentation.ToArray().Select(l => (long)l).ToArray(), int64).to(sample.device);
        var flat = hwc.reshape(h * w, c).to_type(float64);
        var sums = zeros(new long[] { segmentation.Count, c }, float64, sample.device).index_add(0, labels, flat, 1.0);
        var counts = zeros(new long[] { segmentation.Count }, float64, sample.device).index_add(0, labels, ones(h * w, float64, sample.device), 1.0);
        var filled = (sums / counts.unsqueeze(1)).index_select(0, labels).reshape(h, w, c).to_type(sample.dtype);
        return (layout == ImageLayout.ChannelsFirst ? filled.permute(2, 0, 1) : filled).contiguous().unsqueeze(0);
    }
}
