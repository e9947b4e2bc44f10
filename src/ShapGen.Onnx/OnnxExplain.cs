using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>One-call explanations of ONNX models, the C# counterpart of DIANNA's <c>dianna.explain_image</c>.</summary>
public static class OnnxExplain
{
    /// <summary>
    /// KernelSHAP on SLIC superpixels of one image, as
    /// <c>dianna.explain_image(onnxPath, image, labels, method="KernelSHAP", nsamples, background, n_segments, sigma, axis_labels)</c>:
    /// returns one heatmap per requested label, the Shapley value of every superpixel, the segmentation and the base
    /// value. Segment k maps to feature k exactly (DIANNA paints segment k with feature k − 1). The model's input
    /// layout (channels first or last) is read from the ONNX file.
    /// </summary>
    /// <param name="onnxPath">Path of the .onnx model (one float32 image input).</param>
    /// <param name="image">One image in the layout <paramref name="axisLabels"/> names (default ("height", "width", "channels")).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="nsamples">Coalitions evaluated (DIANNA's <c>nsamples</c>).</param>
    /// <param name="background">Value of masked superpixels (DIANNA's <c>background</c>); NaN uses the image's mean per channel (DIANNA's None).</param>
    /// <param name="nSegments">Approximate number of superpixels (<c>n_segments</c>).</param>
    /// <param name="sigma">Gaussian pre-smoothing of the segmentation (<c>sigma</c>).</param>
    /// <param name="axisLabels">Names of the image's axes, including "channels"; null guesses from sizes.</param>
    /// <param name="compactness">SLIC compactness (DIANNA's default 10).</param>
    /// <param name="seed">Seed of the coalition sampling.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="options">Further options (l1_reg, link, batching, progress); its SLIC and sampling fields are overridden by the parameters above.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation ExplainImage(string onnxPath, Tensor image, int[] labels, int nsamples = 1000,
                                                double background = 0, int nSegments = 200, double sigma = 0,
                                                string[]? axisLabels = null, double compactness = 10.0, long? seed = null,
                                                string? inputName = null, KernelImageOptions? options = null,
                                                CancellationToken cancellationToken = default)
    {
        using var model = new OnnxModel(onnxPath);
        return ExplainImage(model, image, labels, nsamples, background, nSegments, sigma, axisLabels, compactness, seed,
                            inputName, options, cancellationToken);
    }

    /// <summary>As <see cref="ExplainImage(string, Tensor, int[], int, double, int, double, string[], double, long?, string?, KernelImageOptions?, CancellationToken)"/>, on a loaded model.</summary>
    /// <param name="model">The loaded ONNX model.</param>
    /// <param name="image">One image in the layout <paramref name="axisLabels"/> names.</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="nsamples">Coalitions evaluated.</param>
    /// <param name="background">Value of masked superpixels; NaN uses the image's mean per channel.</param>
    /// <param name="nSegments">Approximate number of superpixels.</param>
    /// <param name="sigma">Gaussian pre-smoothing of the segmentation.</param>
    /// <param name="axisLabels">Names of the image's axes, including "channels".</param>
    /// <param name="compactness">SLIC compactness.</param>
    /// <param name="seed">Seed of the coalition sampling.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="options">Further options (l1_reg, link, batching, progress).</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation ExplainImage(OnnxModel model, Tensor image, int[] labels, int nsamples = 1000,
                                                double background = 0, int nSegments = 200, double sigma = 0,
                                                string[]? axisLabels = null, double compactness = 10.0, long? seed = null,
                                                string? inputName = null, KernelImageOptions? options = null,
                                                CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(labels);
        if (image.IsInvalid) throw new ObjectDisposedException(nameof(image), "The image tensor has been disposed.");
        if (nsamples < 1) throw new ArgumentOutOfRangeException(nameof(nsamples), nsamples, "nsamples must be ≥ 1.");
        int index;
        if (inputName is not null) index = model.InputIndex(inputName);
        else if (model.InputNames.Count == 1) index = 0;
        else
            throw new ArgumentException(
                $"The ONNX model has {model.InputNames.Count} inputs ({string.Join(", ", model.InputNames)}); name the image's with inputName.",
                nameof(inputName));
        if (model.InputNames.Count != 1)
            throw new NotSupportedException(
                $"Image explanation of multi-input ONNX models is not supported; this one has inputs {string.Join(", ", model.InputNames)}.");

        using var scope = NewDisposeScope();
        var (hwc, imageLayout) = KernelImageExplainer.ToChannelsLast(image, axisLabels);
        long h = hwc.shape[0], w = hwc.shape[1], c = hwc.shape[2];
        var declared = model.InputShapes[index];
        var perSample = declared.Skip(1).ToArray();
        bool Match(long[] want) => perSample.Length == 3 && perSample.Zip(want).All(p => p.First < 0 || p.First == p.Second);
        bool first = Match(new[] { c, h, w }), last = Match(new[] { h, w, c });
        ImageLayout layout;
        if (first && last) layout = imageLayout;
        else if (first) layout = ImageLayout.ChannelsFirst;
        else if (last) layout = ImageLayout.ChannelsLast;
        else
            throw new ArgumentException(
                $"ONNX input '{model.InputNames[index]}' expects {OnnxModel.Describe(declared)}; the image is {h}×{w} with {c} channel(s), " +
                $"which fits neither [N, {c}, {h}, {w}] nor [N, {h}, {w}, {c}].", nameof(image));

        var o = options ?? new KernelImageOptions();
        var imageOptions = new KernelImageOptions
        {
            NSamples = nsamples,
            Background = double.IsNaN(background) ? null : background,
            NSegments = nSegments,
            Compactness = compactness,
            Sigma = sigma,
            AxisLabels = new[] { "height", "width", "channels" },
            ModelLayout = layout,
            Segmentation = o.Segmentation,
            Seed = seed ?? o.Seed,
            L1Reg = o.L1Reg,
            Link = o.Link,
            MaxBatchRows = o.MaxBatchRows,
            Progress = o.Progress,
        };
        return KernelImageExplainer.Explain(model.ToExplainableModel(), hwc, labels, imageOptions, cancellationToken);
    }
}
