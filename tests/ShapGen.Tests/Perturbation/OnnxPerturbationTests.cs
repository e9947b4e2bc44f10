using System;
using System.Linq;
using ShapGen.Tests.Infrastructure;
using ShapGen.Tests.Kernel;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

/// <summary>The perturbation methods on the real binary-MNIST ONNX model of ../shared/data.</summary>
public sealed class OnnxPerturbationTests
{
    [SharedDataFact("binary-mnist-model.onnx", "binary-mnist.npz")]
    public void Feature_ablation_over_slic_segments_of_a_real_digit_has_the_image_shape_and_one_value_per_segment()
    {
        using var scope = NewDisposeScope();
        using var onnx = new OnnxModel(OnnxKernelTests.ModelPath);
        var model = onnx.ToExplainableModel();
        var hwc = OnnxKernelTests.Digit(1);
        var image = hwc.permute(2, 0, 1).unsqueeze(0).contiguous(); // [1, 1, 28, 28]
        var segmentation = Slic.Segment(hwc, channelsLast: true, new SlicOptions { NSegments = 50 });
        var groups = KernelFeatureGroups.FromSegmentation(segmentation, ImageLayout.ChannelsFirst, 1);
        using var result = new FeatureAblation(model, labels: new[] { "0", "1" }).Explain(new[] { image },
            new FeatureAblationOptions { FeatureGroups = groups, MaxBatchRows = 16 });

        Assert.Equal(2, result.OutputCount);
        Assert.Equal(new long[] { 1, 1, 28, 28 }, result[1, 0].shape);
        Assert.Equal(float32, result[1, 0].dtype);
        // Check one segment by hand: one model call with that segment at the baseline 0.
        var labels = segmentation.ToArray();
        int segment = labels[14 * 28 + 14];
        var fx = model.Forward(image).data<float>().ToArray();
        var mask = tensor(labels.Select(l => l == segment).ToArray()).reshape(1, 1, 28, 28);
        var ablated = model.Forward(where(mask, zeros_like(image), image)).data<float>().ToArray();
        var attribution = result[1, 0].reshape(-1).data<float>().ToArray();
        for (int p = 0; p < labels.Length; p++)
            if (labels[p] == segment) Assert.Equal(fx[1] - ablated[1], attribution[p], 1e-5);
        Assert.True(attribution.Distinct().Count() <= segmentation.Count, "one value per segment");
    }

    private static readonly string[] Hwc = { "height", "width", "channels" };

    private static (float[] Fx, float[] F0) Outputs(Tensor hwc)
    {
        using var model = new OnnxModel(OnnxKernelTests.ModelPath);
        return (model.Run(hwc.permute(2, 0, 1).unsqueeze(0)).data<float>().ToArray(), model.Run(zeros(1, 1, 28, 28)).data<float>().ToArray());
    }

    [SharedDataFact("binary-mnist-model.onnx", "binary-mnist.npz")]
    public void Rise_one_call_entry_gives_a_28_by_28_map_per_label_and_f_of_x_everywhere_when_every_cell_is_kept()
    {
        using var scope = NewDisposeScope();
        var image = OnnxKernelTests.Digit(0);
        using var result = OnnxExplain.Rise(OnnxKernelTests.ModelPath, image, new[] { 1, 0 }, new RiseOptions { NMasks = 20, PKeep = 1, Seed = 1 }, Hwc);
        using var estimated = OnnxExplain.Rise(OnnxKernelTests.ModelPath, image, new[] { 0 }, new RiseOptions { NMasks = 50, Seed = 1 }, Hwc);
        var (fx, f0) = Outputs(image);
        Assert.Equal(new[] { 1, 0 }, result.Labels);
        Assert.Equal(new long[] { 2, 28, 28 }, result.Heatmaps.shape);
        Assert.Equal(28 * 28, result.SegmentCount);
        for (int l = 0; l < 2; l++)
        {
            int label = result.Labels[l];
            Assert.All(result.Heatmaps[l].reshape(-1).data<double>().ToArray(), v => Assert.Equal(fx[label], v, 1e-4));
            Assert.Equal(fx[label], result.ModelOutputs[l], 1e-5);
            Assert.Equal(f0[label], result.BaseValues[l], 1e-5);
        }
        Assert.Equal(new long[] { 1, 28, 28 }, estimated.Heatmaps.shape);
        Assert.True(estimated.Heatmaps.std().item<double>() > 0, "masks that drop cells give a map that varies");
    }

    [SharedDataFact("binary-mnist-model.onnx", "binary-mnist.npz")]
    public void Lime_one_call_entry_gives_one_coefficient_per_superpixel_for_each_label()
    {
        using var scope = NewDisposeScope();
        var image = OnnxKernelTests.Digit(1);
        var slic = new SlicOptions { NSegments = 30, Sigma = 0 };
        using var result = OnnxExplain.Lime(OnnxKernelTests.ModelPath, image, new[] { 0, 1 }, new LimeOptions { NumSamples = 200, Seed = 2 }, slic, hideColor: 0, axisLabels: Hwc);
        var (fx, f0) = Outputs(image);
        Assert.Equal(new long[] { 2, 28, 28 }, result.Heatmaps.shape);
        Assert.InRange(result.SegmentCount, 10, 40);
        var labels = result.Segmentation.ToArray();
        for (int l = 0; l < 2; l++)
        {
            var map = result.Heatmaps[l].reshape(-1).data<double>().ToArray();
            var values = result.ShapleyValues(l);
            for (int p = 0; p < map.Length; p++) Assert.Equal(values[labels[p]], map[p]);
            Assert.Equal(fx[l], result.ModelOutputs[l], 1e-5);
            Assert.Equal(f0[l], result.BaseValues[l], 1e-5); // hide colour 0: the baseline image is all zeros
        }
        // The entry is the engine on the superpixels with every hidden pixel at 0.
        var groups = KernelFeatureGroups.FromSegmentation(result.Segmentation, ImageLayout.ChannelsFirst, 1);
        using var onnx = new OnnxModel(OnnxKernelTests.ModelPath);
        using var direct = new Lime(onnx.ToExplainableModel()).Explain(new[] { image.permute(2, 0, 1).unsqueeze(0).contiguous() },
            new LimeOptions { NumSamples = 200, Seed = 2, FeatureGroups = groups });
        var pixels = direct[1, 0].reshape(-1).to_type(float64).data<double>().ToArray();
        for (int p = 0; p < labels.Length; p++) Assert.Equal(result.ShapleyValues(1)[labels[p]], pixels[p], 1e-6);
        Assert.Contains(result.ShapleyValues(1), v => Math.Abs(v) > 1e-3);
    }

    [SharedDataFact("binary-mnist-model.onnx", "binary-mnist.npz")]
    public void Feature_ablation_and_occlusion_one_call_entries_match_a_hand_ablation()
    {
        using var scope = NewDisposeScope();
        var image = OnnxKernelTests.Digit(1);
        var (fx, _) = Outputs(image);
        using var model = new OnnxModel(OnnxKernelTests.ModelPath);
        using var ablation = OnnxExplain.FeatureAblation(model, image, new[] { 1 }, slic: new SlicOptions { NSegments = 40, Sigma = 0 }, axisLabels: Hwc);
        var labels = ablation.Segmentation.ToArray();
        int segment = labels[14 * 28 + 14];
        var mask = tensor(labels.Select(l => l == segment).ToArray()).reshape(28, 28, 1);
        var ablated = model.Run(where(mask, zeros_like(image), image).permute(2, 0, 1).unsqueeze(0)).data<float>().ToArray();
        Assert.Equal(fx[1] - ablated[1], ablation.ShapleyValues(0)[segment], 1e-4);

        using var occlusion = OnnxExplain.Occlusion(model, image, new[] { 0, 1 }, new OcclusionOptions
        {
            SlidingWindowShapes = new[] { new long[] { 1, 7, 7 } }, Strides = new[] { new long[] { 1, 7, 7 } },
        }, axisLabels: Hwc);
        Assert.Equal(new long[] { 2, 28, 28 }, occlusion.Heatmaps.shape);
        var window = zeros(28, 28, 1, dtype: @bool);
        window[TensorIndex.Slice(7, 14), TensorIndex.Slice(14, 21)] = true;
        var occluded = model.Run(where(window, zeros_like(image), image).permute(2, 0, 1).unsqueeze(0)).data<float>().ToArray();
        Assert.Equal(fx[0] - occluded[0], occlusion.Heatmaps[0, 10, 17].item<double>(), 1e-4);
        using var defaults = OnnxExplain.Occlusion(model, image, new[] { 1 }, axisLabels: Hwc);
        Assert.Equal(new long[] { 1, 28, 28 }, defaults.Heatmaps.shape);
    }

    [SharedDataFact("binary-mnist-model.onnx", "binary-mnist.npz")]
    public void One_call_entries_name_a_label_out_of_range()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            OnnxExplain.Rise(OnnxKernelTests.ModelPath, OnnxKernelTests.Digit(0), new[] { 2 }, new RiseOptions { NMasks = 2, PKeep = 0.5 }, Hwc));
        Assert.Contains("Label 2 is out of range: the model has 2 outputs", e.Message);
    }

    [SharedDataFact("binary-mnist-model.onnx", "binary-mnist.npz")]
    public void Partition_one_call_entry_with_shaps_blur_masker_adds_up_to_f_of_x_minus_f_of_the_blurred_image()
    {
        using var scope = NewDisposeScope();
        var image = OnnxKernelTests.Digit(0);
        using var result = OnnxExplain.Partition(OnnxKernelTests.ModelPath, image, new[] { 0, 1 }, new PartitionOptions { MaxEvals = 300, Blur = (128, 128) }, Hwc);
        var (fx, _) = Outputs(image);
        using var model = new OnnxModel(OnnxKernelTests.ModelPath);
        var blurred = Partition.BoxBlur(image.permute(2, 0, 1).unsqueeze(0), ImageGeometry.Of(new[] { new long[] { 1, 28, 28 } }, ImageLayout.ChannelsFirst, "test"), 128, 128);
        var fBlur = model.Run(blurred).data<float>().ToArray();
        Assert.Equal(new long[] { 2, 28, 28 }, result.Heatmaps.shape);
        for (int l = 0; l < 2; l++)
        {
            Assert.Equal(fBlur[l], result.BaseValues[l], 1e-5);
            Assert.Equal(fx[l] - fBlur[l], result.Heatmaps[l].sum().item<double>(), 1e-4);
        }
        Assert.True(Math.Abs(fx[0] - fBlur[0]) > 1e-3, "the blurred digit should change the output");
    }
}
