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
    /// <c>dianna.explain_image(onnxPath, image, labels, method="KernelSHAP", …)</c>: returns one heatmap per requested
    /// label, the Shapley value of every superpixel, the segmentation and the base value. Segment k maps to feature k
    /// exactly (DIANNA paints segment k with feature k − 1). The model's input layout (channels first or last) is read
    /// from the ONNX file.
    /// </summary>
    /// <param name="onnxPath">Path of the .onnx model (one float32 image input).</param>
    /// <param name="image">One image in the layout <see cref="KernelImageOptions.AxisLabels"/> names, or a guessed one.</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">KernelSHAP, SLIC and image options (DIANNA's keywords), logger included; null for the defaults.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="modelOptions">The output to explain, ONNX Runtime session options and an output transform (e.g.
    /// <see cref="OnnxOutputTransforms.Exp"/> for a log-softmax model); null for the first output as it is.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation ExplainImage(string onnxPath, Tensor image, int[] labels, KernelImageOptions? options = null,
                                                string? inputName = null, OnnxModelOptions? modelOptions = null,
                                                CancellationToken cancellationToken = default)
    {
        using var model = new OnnxModel(onnxPath, modelOptions ?? new OnnxModelOptions());
        return ExplainImage(model, image, labels, options, inputName, cancellationToken);
    }

    /// <summary>As <see cref="ExplainImage(string, Tensor, int[], KernelImageOptions?, string?, OnnxModelOptions?, CancellationToken)"/>, on a loaded model.</summary>
    /// <param name="model">The loaded ONNX model.</param>
    /// <param name="image">One image in the layout <see cref="KernelImageOptions.AxisLabels"/> names, or a guessed one.</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">KernelSHAP, SLIC and image options; null for the defaults.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation ExplainImage(OnnxModel model, Tensor image, int[] labels, KernelImageOptions? options = null,
                                                string? inputName = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(labels);
        if (image.IsInvalid) throw new ObjectDisposedException(nameof(image), "The image tensor has been disposed.");
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
        options ??= new KernelImageOptions();
        var (hwc, imageLayout) = KernelImageExplainer.ToChannelsLast(image, options.AxisLabels);
        long h = hwc.shape[0], w = hwc.shape[1], c = hwc.shape[2];
        var declared = model.InputShapes[index];
        var perSample = declared.Skip(1).ToArray();
        bool Match(long[] want) => perSample.Length == 3 && perSample.Zip(want).All(p => p.First < 0 || p.First == p.Second);
        bool first = Match(new[] { c, h, w }), last = Match(new[] { h, w, c });
        ImageLayout layout;
        if (first && last) layout = options.ModelLayout ?? imageLayout;
        else if (first) layout = ImageLayout.ChannelsFirst;
        else if (last) layout = ImageLayout.ChannelsLast;
        else
            throw new ArgumentException(
                $"ONNX input '{model.InputNames[index]}' expects {OnnxModel.Describe(declared)}; the image is {h}×{w} with {c} channel(s), " +
                $"which fits neither [N, {c}, {h}, {w}] nor [N, {h}, {w}, {c}].", nameof(image));

        var imageOptions = new KernelImageOptions(options) { AxisLabels = new[] { "height", "width", "channels" }, ModelLayout = layout };
        return KernelImageExplainer.Explain(model.ToExplainableModel(), hwc, labels, imageOptions, cancellationToken);
    }
}
