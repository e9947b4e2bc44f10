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
}
