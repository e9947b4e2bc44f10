using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Options of <see cref="KernelImageExplainer.Explain"/> and <c>OnnxExplain.ExplainImage</c> (DIANNA's
/// <c>explain_image(..., method="KernelSHAP")</c> keywords): the KernelSHAP options, the SLIC options, and what is
/// particular to images.
/// </summary>
public sealed class KernelImageOptions
{
    private KernelExplainOptions _kernel = new();
    private SlicOptions _slic = new();

    /// <summary>Creates options with the defaults.</summary>
    public KernelImageOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>, the composed KernelSHAP options included.</summary>
    /// <param name="other">The options to copy.</param>
    public KernelImageOptions(KernelImageOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        // Every option must be copied here: an option left out is silently reset where image options are copied.
        _kernel = new KernelExplainOptions(other._kernel);
        _slic = other._slic;
        Background = other.Background;
        AxisLabels = other.AxisLabels;
        ModelLayout = other.ModelLayout;
        Segmentation = other.Segmentation;
    }

    /// <summary>
    /// KernelSHAP options: nsamples (DIANNA's <c>nsamples</c>; null = "auto", 2·M + 2048), seed, l1_reg, link,
    /// batching, memory budget, progress and logger. Its <see cref="KernelExplainOptions.FeatureGroups"/> is replaced
    /// by the superpixels.
    /// </summary>
    public KernelExplainOptions Kernel
    {
        get => _kernel;
        set => _kernel = value ?? throw new ArgumentNullException(nameof(Kernel));
    }

    /// <summary>SLIC options (<c>n_segments</c>, <c>compactness</c> = 10, <c>sigma</c>, …), used unless a <see cref="Segmentation"/> is given.</summary>
    public SlicOptions Slic
    {
        get => _slic;
        set => _slic = value ?? throw new ArgumentNullException(nameof(Slic));
    }

    /// <summary>Value a masked superpixel takes in every channel (DIANNA's <c>background</c>); null uses the image's mean per channel, as DIANNA does.</summary>
    public double? Background { get; set; }

    /// <summary>
    /// Names of the image's axes (DIANNA's <c>axis_labels</c>), e.g. ("height", "width", "channels") or
    /// ("channels", "height", "width"); null guesses the channel axis from its size (≤ 4).
    /// </summary>
    public IReadOnlyList<string>? AxisLabels { get; set; }

    /// <summary>Layout of the model's input per sample; null uses the image's own layout (ONNX: read from the file).</summary>
    public ImageLayout? ModelLayout { get; set; }

    /// <summary>A segmentation to use instead of running SLIC.</summary>
    public Segmentation? Segmentation { get; set; }
}

/// <summary>
/// The result of a KernelSHAP image explanation: per requested label, the Shapley value of every superpixel, the
/// base value and the model output (all in the link's space), the segmentation, and heatmaps. Owns its tensors.
/// </summary>
public sealed class ImageExplanation : IDisposable
{
    private readonly double[][] _segmentValues;

    internal ImageExplanation(Segmentation segmentation, int[] labels, double[][] segmentValues, double[] baseValues,
                              double[] outputs, KernelFeatureAttributions features)
    {
        Segmentation = segmentation;
        Labels = labels;
        _segmentValues = segmentValues;
        BaseValues = baseValues;
        ModelOutputs = outputs;
        Features = features;
        int h = segmentation.Height, w = segmentation.Width, l = labels.Length;
        var sizes = segmentation.SegmentSizes();
        var heat = new double[l * h * w];
        var additive = new double[l * h * w];
        var seg = segmentation.Labels;
        for (int i = 0; i < l; i++)
            for (int p = 0; p < h * w; p++)
            {
                double v = segmentValues[i][seg[p]];
                heat[i * h * w + p] = v;
                additive[i * h * w + p] = v / sizes[seg[p]];
            }
        Heatmaps = tensor(heat, new long[] { l, h, w }, float64).DetachFromDisposeScope();
        PixelAttributions = tensor(additive, new long[] { l, h, w }, float64).DetachFromDisposeScope();
    }

    /// <summary>The superpixels; segment k is feature k.</summary>
    public Segmentation Segmentation { get; }

    /// <summary>The explained model outputs, in request order.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>Number of superpixels M.</summary>
    public int SegmentCount => Segmentation.Count;

    /// <summary>The Shapley value of every superpixel for the <paramref name="labelIndex"/>-th requested label (a copy, length M).</summary>
    public double[] ShapleyValues(int labelIndex) => (double[])_segmentValues[labelIndex].Clone();

    /// <summary>Base value link(E f(background image)) per requested label.</summary>
    public IReadOnlyList<double> BaseValues { get; }

    /// <summary>link(f(image)) per requested label: BaseValues[l] + Σ ShapleyValues(l) equals it.</summary>
    public IReadOnlyList<double> ModelOutputs { get; }

    /// <summary>
    /// DIANNA's heatmaps, [L, H, W] float64: every pixel carries the Shapley value of its superpixel (segment k gets
    /// feature k's value, without DIANNA's off-by-one).
    /// </summary>
    public Tensor Heatmaps { get; }

    /// <summary>Additive heatmaps, [L, H, W] float64: a superpixel's value spread evenly over its pixels, so each map sums to ModelOutputs − BaseValues.</summary>
    public Tensor PixelAttributions { get; }

    /// <summary>The per-feature values for all model outputs.</summary>
    public KernelFeatureAttributions Features { get; }

    /// <summary>Frees the heatmaps.</summary>
    public void Dispose()
    {
        Heatmaps.Dispose();
        PixelAttributions.Dispose();
    }
}

/// <summary>
/// KernelSHAP on superpixels of one image for any model (TorchSharp module, delegate or ONNX adapter): DIANNA's
/// <c>explain_image(..., method="KernelSHAP")</c> with exact segment-to-feature mapping.
/// </summary>
public static class KernelImageExplainer
{
    /// <summary>Segments the image with SLIC and explains the requested outputs.</summary>
    /// <param name="model">A one-input model taking [N, C, H, W] or [N, H, W, C] (see <see cref="KernelImageOptions.ModelLayout"/>).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see AxisLabels), or any of these with a leading batch of 1.</param>
    /// <param name="labels">Model outputs to explain (DIANNA's <c>labels</c>).</param>
    /// <param name="options">KernelSHAP options (nsamples, seed, logger…), SLIC options, background, layouts; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Explain(ExplainableModel model, Tensor image, IReadOnlyList<int> labels,
                                           KernelImageOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(labels);
        options ??= new KernelImageOptions();
        if (model.InputCount != 1)
            throw new ArgumentException($"Image explanation needs a one-input model; this one takes {model.InputCount}.", nameof(model));
        if (labels.Count == 0)
            throw new ArgumentException("labels must name at least one model output.", nameof(labels));
        if (image.IsInvalid) throw new ObjectDisposedException(nameof(image), "The image tensor has been disposed.");

        using var scope = NewDisposeScope();
        var (hwc, imageLayout) = ToChannelsLast(image, options.AxisLabels);
        int h = (int)hwc.shape[0], w = (int)hwc.shape[1], c = (int)hwc.shape[2];
        if (h == 0 || w == 0 || c == 0)
            throw new ArgumentException(
                $"image has no pixels: shape {Shapes.Format(image.shape)} ({h}×{w}, {c} channels); it needs at least one pixel and one channel.",
                nameof(image));
        var pixels = hwc.to_type(float64).cpu().contiguous().data<double>().ToArray();
        if (pixels.Any(v => !double.IsFinite(v)))
            throw new ArgumentException("image contains NaN or infinite values.", nameof(image));

        Segmentation segmentation = options.Segmentation ?? Slic.Segment(pixels, h, w, c, options.Slic);
        if (segmentation.Height != h || segmentation.Width != w)
            throw new ArgumentException(
                $"The segmentation is {segmentation.Height}×{segmentation.Width}; the image is {h}×{w}.", nameof(options));

        var layout = options.ModelLayout ?? imageLayout;
        var dtype = image.is_floating_point() ? image.dtype : float32;
        var sample = (layout == ImageLayout.ChannelsFirst ? hwc.permute(2, 0, 1) : hwc).to_type(dtype).contiguous().unsqueeze(0);
        var device = model.Device ?? image.device;
        sample = sample.to(device);
        Tensor background;
        if (options.Background is double b)
        {
            if (!double.IsFinite(b)) throw new ArgumentException($"Background must be finite; it is {b}.", nameof(options));
            background = full_like(sample, b);
        }
        else
        {
            var mean = hwc.to_type(float64).mean(new long[] { 0, 1 }); // per channel, as DIANNA
            var filled = mean.reshape(1, 1, c).expand(h, w, c);
            background = (layout == ImageLayout.ChannelsFirst ? filled.permute(2, 0, 1) : filled)
                .to_type(dtype).contiguous().unsqueeze(0).to(device);
        }

        using var explainer = new KernelExplainer(model, new[] { background }, inputNames: new[] { "image" });
        foreach (int label in labels)
            if (label < 0 || label >= explainer.OutputCount)
                throw new ArgumentOutOfRangeException(nameof(labels), label,
                    $"Label {label} is out of range: the model has {explainer.OutputCount} outputs (0..{explainer.OutputCount - 1}).");
        var kernelOptions = new KernelExplainOptions(options.Kernel) { FeatureGroups = KernelFeatureGroups.FromSegmentation(segmentation, layout, c) };
        var features = explainer.ExplainFeatures(new[] { sample }, kernelOptions, cancellationToken);

        var ids = labels.ToArray();
        var values = ids.Select(l => features.Values(0, l)).ToArray();
        var bases = ids.Select(l => features.ExpectedValues[l]).ToArray();
        var outputs = ids.Select(l => features.ModelOutput(0, l)).ToArray();
        return new ImageExplanation(segmentation, ids, values, bases, outputs, features);
    }

    /// <summary>
    /// Returns one image as [H, W, C] (a view where possible, a new tensor otherwise: dispose it or use a dispose
    /// scope) and the layout it came in, reading the channel axis from DIANNA-style axis labels or guessing it.
    /// </summary>
    /// <param name="image">[H, W], [H, W, C], [C, H, W], or one of these with a leading batch of 1.</param>
    /// <param name="axisLabels">Names of the axes, including "channels" for a 3-d image; null guesses (a channel axis has ≤ 4 entries).</param>
    public static (Tensor Hwc, ImageLayout Layout) ToChannelsLast(Tensor image, IReadOnlyList<string>? axisLabels)
    {
        var t = image;
        if (t.dim() == 4)
        {
            if (t.shape[0] != 1)
                throw new ArgumentException(
                    $"image must be a single image; it has a batch of {t.shape[0]} (shape {Shapes.Format(t.shape)}).", nameof(image));
            t = t.squeeze(0);
        }
        if (axisLabels is not null)
        {
            var names = axisLabels.Select(a => a.ToLowerInvariant()).ToList();
            if (names.Count == t.dim() + 1 && t.dim() == 3 && names[0] is "batch") names.RemoveAt(0);
            if (names.Count != t.dim())
                throw new ArgumentException(
                    $"axis labels ({string.Join(", ", axisLabels)}) name {names.Count} axes; the image has {t.dim()} (shape {Shapes.Format(image.shape)}).",
                    nameof(axisLabels));
            if (t.dim() == 2) return (t.unsqueeze(-1), ImageLayout.ChannelsLast);
            int ch = names.IndexOf("channels");
            if (ch < 0)
                throw new ArgumentException("axis labels must name the 'channels' axis (as DIANNA requires).", nameof(axisLabels));
            if (ch == 2) return (t, ImageLayout.ChannelsLast);
            if (ch == 0) return (t.permute(1, 2, 0), ImageLayout.ChannelsFirst);
            throw new ArgumentException("The 'channels' axis must come first or last.", nameof(axisLabels));
        }
        switch (t.dim())
        {
            case 2:
                return (t.unsqueeze(-1), ImageLayout.ChannelsLast);
            case 3:
                if (t.shape[2] <= 4) return (t, ImageLayout.ChannelsLast);
                if (t.shape[0] <= 4) return (t.permute(1, 2, 0), ImageLayout.ChannelsFirst);
                throw new ArgumentException(
                    $"Cannot tell the channel axis of an image of shape {Shapes.Format(image.shape)}: pass axis labels.", nameof(image));
            default:
                throw new ArgumentException(
                    $"image must be [H, W], [H, W, C] or [C, H, W]; it has shape {Shapes.Format(image.shape)}.", nameof(image));
        }
    }
}
