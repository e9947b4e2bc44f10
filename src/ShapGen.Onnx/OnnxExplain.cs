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
        ArgumentNullException.ThrowIfNull(labels);
        options ??= new KernelImageOptions();
        var layout = ModelLayout(model, image, options.AxisLabels, options.ModelLayout, inputName);
        using var scope = NewDisposeScope();
        var (hwc, _) = KernelImageExplainer.ToChannelsLast(image, options.AxisLabels);
        var imageOptions = new KernelImageOptions(options) { AxisLabels = new[] { "height", "width", "channels" }, ModelLayout = layout };
        return KernelImageExplainer.Explain(model.ToExplainableModel(), hwc, labels, imageOptions, cancellationToken);
    }

    /// <summary>
    /// RISE saliency maps of one image, as <c>dianna.explain_image(onnxPath, image, labels, method="RISE", …)</c>: one
    /// heatmap per requested label (every pixel its own segment). The model's input layout is read from the ONNX file.
    /// </summary>
    /// <param name="onnxPath">Path of the .onnx model (one float32 image input).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">NMasks, FeatureRes, PKeep (DIANNA's keywords), baseline, seed, batching, logger; null for the defaults.</param>
    /// <param name="axisLabels">Names of the image's axes (DIANNA's <c>axis_labels</c>); null guesses the channel axis.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="modelOptions">The output to explain, ONNX Runtime session options and an output transform; null for the first output as it is.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Rise(string onnxPath, Tensor image, int[] labels, RiseOptions? options = null,
                                        IReadOnlyList<string>? axisLabels = null, string? inputName = null,
                                        OnnxModelOptions? modelOptions = null, CancellationToken cancellationToken = default)
    {
        using var model = new OnnxModel(onnxPath, modelOptions ?? new OnnxModelOptions());
        return Rise(model, image, labels, options, axisLabels, inputName, cancellationToken);
    }

    /// <summary>As <see cref="Rise(string, Tensor, int[], RiseOptions?, IReadOnlyList{string}?, string?, OnnxModelOptions?, CancellationToken)"/>, on a loaded model.</summary>
    /// <param name="model">The loaded ONNX model.</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">NMasks, FeatureRes, PKeep, baseline, seed, batching, logger; null for the defaults.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Rise(OnnxModel model, Tensor image, int[] labels, RiseOptions? options = null,
                                        IReadOnlyList<string>? axisLabels = null, string? inputName = null, CancellationToken cancellationToken = default)
    {
        var layout = ModelLayout(model, image, axisLabels, null, inputName);
        return PerturbationImageExplainer.Rise(model.ToExplainableModel(), image, labels, options, axisLabels, layout, cancellationToken);
    }

    /// <summary>
    /// LIME on SLIC superpixels of one image, as <c>dianna.explain_image(onnxPath, image, labels, method="LIME", …)</c>
    /// (lime's <c>LimeImageExplainer</c>): per requested label, each superpixel's coefficient in the local model.
    /// </summary>
    /// <param name="onnxPath">Path of the .onnx model (one float32 image input).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">NumSamples, KernelWidth, NumFeatures, Alpha (lime's keywords), seed, batching, logger; null for the defaults.</param>
    /// <param name="slic">SLIC options; null for the defaults.</param>
    /// <param name="hideColor">lime's <c>hide_color</c>; null uses each superpixel's mean colour, as lime does.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="modelOptions">The output to explain, ONNX Runtime session options and an output transform; null for the first output as it is.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Lime(string onnxPath, Tensor image, int[] labels, LimeOptions? options = null, SlicOptions? slic = null,
                                        double? hideColor = null, IReadOnlyList<string>? axisLabels = null, string? inputName = null,
                                        OnnxModelOptions? modelOptions = null, CancellationToken cancellationToken = default)
    {
        using var model = new OnnxModel(onnxPath, modelOptions ?? new OnnxModelOptions());
        return Lime(model, image, labels, options, slic, hideColor, axisLabels, inputName, cancellationToken);
    }

    /// <summary>As <see cref="Lime(string, Tensor, int[], LimeOptions?, SlicOptions?, double?, IReadOnlyList{string}?, string?, OnnxModelOptions?, CancellationToken)"/>, on a loaded model.</summary>
    /// <param name="model">The loaded ONNX model.</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">NumSamples, KernelWidth, NumFeatures, Alpha, seed, batching, logger; null for the defaults.</param>
    /// <param name="slic">SLIC options; null for the defaults.</param>
    /// <param name="hideColor">lime's <c>hide_color</c>; null uses each superpixel's mean colour.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Lime(OnnxModel model, Tensor image, int[] labels, LimeOptions? options = null, SlicOptions? slic = null,
                                        double? hideColor = null, IReadOnlyList<string>? axisLabels = null, string? inputName = null,
                                        CancellationToken cancellationToken = default)
    {
        var layout = ModelLayout(model, image, axisLabels, null, inputName);
        return PerturbationImageExplainer.Lime(model.ToExplainableModel(), image, labels, options, slic, hideColor, axisLabels, layout, cancellationToken);
    }

    /// <summary>Feature ablation of SLIC superpixels of one image (Captum's <c>FeatureAblation</c>); the model's layout is read from the ONNX file.</summary>
    /// <param name="onnxPath">Path of the .onnx model (one float32 image input).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">Baseline, batching, logger; null for the defaults.</param>
    /// <param name="slic">SLIC options; null for the defaults.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="modelOptions">The output to explain, ONNX Runtime session options and an output transform; null for the first output as it is.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation FeatureAblation(string onnxPath, Tensor image, int[] labels, FeatureAblationOptions? options = null,
                                                   SlicOptions? slic = null, IReadOnlyList<string>? axisLabels = null, string? inputName = null,
                                                   OnnxModelOptions? modelOptions = null, CancellationToken cancellationToken = default)
    {
        using var model = new OnnxModel(onnxPath, modelOptions ?? new OnnxModelOptions());
        return FeatureAblation(model, image, labels, options, slic, axisLabels, inputName, cancellationToken);
    }

    /// <summary>As <see cref="FeatureAblation(string, Tensor, int[], FeatureAblationOptions?, SlicOptions?, IReadOnlyList{string}?, string?, OnnxModelOptions?, CancellationToken)"/>, on a loaded model.</summary>
    /// <param name="model">The loaded ONNX model.</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">Baseline, batching, logger; null for the defaults.</param>
    /// <param name="slic">SLIC options; null for the defaults.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation FeatureAblation(OnnxModel model, Tensor image, int[] labels, FeatureAblationOptions? options = null,
                                                   SlicOptions? slic = null, IReadOnlyList<string>? axisLabels = null, string? inputName = null,
                                                   CancellationToken cancellationToken = default)
    {
        var layout = ModelLayout(model, image, axisLabels, null, inputName);
        return PerturbationImageExplainer.FeatureAblation(model.ToExplainableModel(), image, labels, options, slic, axisLabels, layout, cancellationToken);
    }

    /// <summary>
    /// Occlusion of one image (Captum's <c>Occlusion</c>): windows over all channels; with no window shapes in the
    /// options, ⌈H/8⌉×⌈W/8⌉ pixels stepping by half a window. The model's layout is read from the ONNX file.
    /// </summary>
    /// <param name="onnxPath">Path of the .onnx model (one float32 image input).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">Window shapes and strides in the model's sample layout, baseline, batching, logger; null for the defaults.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="modelOptions">The output to explain, ONNX Runtime session options and an output transform; null for the first output as it is.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Occlusion(string onnxPath, Tensor image, int[] labels, OcclusionOptions? options = null,
                                             IReadOnlyList<string>? axisLabels = null, string? inputName = null,
                                             OnnxModelOptions? modelOptions = null, CancellationToken cancellationToken = default)
    {
        using var model = new OnnxModel(onnxPath, modelOptions ?? new OnnxModelOptions());
        return Occlusion(model, image, labels, options, axisLabels, inputName, cancellationToken);
    }

    /// <summary>As <see cref="Occlusion(string, Tensor, int[], OcclusionOptions?, IReadOnlyList{string}?, string?, OnnxModelOptions?, CancellationToken)"/>, on a loaded model.</summary>
    /// <param name="model">The loaded ONNX model.</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">Window shapes and strides in the model's sample layout, baseline, batching, logger; null for the defaults.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Occlusion(OnnxModel model, Tensor image, int[] labels, OcclusionOptions? options = null,
                                             IReadOnlyList<string>? axisLabels = null, string? inputName = null, CancellationToken cancellationToken = default)
    {
        var layout = ModelLayout(model, image, axisLabels, null, inputName);
        return PerturbationImageExplainer.Occlusion(model.ToExplainableModel(), image, labels, options, axisLabels, layout, cancellationToken);
    }

    /// <summary>
    /// shap's Partition explainer on one image (Owen values over shap's split of the pixel grid; use
    /// <see cref="PartitionOptions.Blur"/> = (128, 128) for shap's <c>"blur(128,128)"</c> masker): each heatmap adds up to
    /// ModelOutputs − BaseValues exactly. The model's layout is read from the ONNX file.
    /// </summary>
    /// <param name="onnxPath">Path of the .onnx model (one float32 image input).</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">MaxEvals (shap's max_evals), the masker, batching, logger; null for the defaults.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="modelOptions">The output to explain, ONNX Runtime session options and an output transform; null for the first output as it is.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Partition(string onnxPath, Tensor image, int[] labels, PartitionOptions? options = null,
                                             IReadOnlyList<string>? axisLabels = null, string? inputName = null,
                                             OnnxModelOptions? modelOptions = null, CancellationToken cancellationToken = default)
    {
        using var model = new OnnxModel(onnxPath, modelOptions ?? new OnnxModelOptions());
        return Partition(model, image, labels, options, axisLabels, inputName, cancellationToken);
    }

    /// <summary>As <see cref="Partition(string, Tensor, int[], PartitionOptions?, IReadOnlyList{string}?, string?, OnnxModelOptions?, CancellationToken)"/>, on a loaded model.</summary>
    /// <param name="model">The loaded ONNX model.</param>
    /// <param name="image">One image: [H, W], [H, W, C], [C, H, W] (see <paramref name="axisLabels"/>).</param>
    /// <param name="labels">Model outputs to explain.</param>
    /// <param name="options">MaxEvals, the masker, batching, logger; null for the defaults.</param>
    /// <param name="axisLabels">Names of the image's axes; null guesses the channel axis.</param>
    /// <param name="inputName">The model input to feed; null requires a one-input model.</param>
    /// <param name="cancellationToken">Checked before every model batch.</param>
    public static ImageExplanation Partition(OnnxModel model, Tensor image, int[] labels, PartitionOptions? options = null,
                                             IReadOnlyList<string>? axisLabels = null, string? inputName = null, CancellationToken cancellationToken = default)
    {
        var layout = ModelLayout(model, image, axisLabels, null, inputName);
        return PerturbationImageExplainer.Partition(model.ToExplainableModel(), image, labels, options, axisLabels, layout, cancellationToken);
    }

    /// <summary>
    /// The layout ([N, C, H, W] or [N, H, W, C]) the ONNX model's image input declares for this image; where both fit
    /// (a square one-channel image with free dimensions), <paramref name="preferred"/> or the image's own.
    /// </summary>
    private static ImageLayout ModelLayout(OnnxModel model, Tensor image, IReadOnlyList<string>? axisLabels, ImageLayout? preferred, string? inputName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
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
        var (hwc, imageLayout) = KernelImageExplainer.ToChannelsLast(image, axisLabels);
        long h = hwc.shape[0], w = hwc.shape[1], c = hwc.shape[2];
        var declared = model.InputShapes[index];
        var perSample = declared.Skip(1).ToArray();
        bool Match(long[] want) => perSample.Length == 3 && perSample.Zip(want).All(p => p.First < 0 || p.First == p.Second);
        bool first = Match(new[] { c, h, w }), last = Match(new[] { h, w, c });
        if (first && last) return preferred ?? imageLayout;
        if (first) return ImageLayout.ChannelsFirst;
        if (last) return ImageLayout.ChannelsLast;
        throw new ArgumentException(
            $"ONNX input '{model.InputNames[index]}' expects {OnnxModel.Describe(declared)}; the image is {h}×{w} with {c} channel(s), " +
            $"which fits neither [N, {c}, {h}, {w}] nor [N, {h}, {w}, {c}].", nameof(image));
    }
}
