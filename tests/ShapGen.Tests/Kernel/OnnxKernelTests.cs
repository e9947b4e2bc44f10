using System;
using System.IO;
using System.Text;
using System.Linq;
using ShapGen;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Kernel;

/// <summary>The binary-MNIST ONNX model of ../shared/data (DIANNA's tutorial model) through the one-call API.</summary>
public sealed class OnnxKernelTests
{
    private const string Model = "binary-mnist-model.onnx";
    private const string Digits = "binary-mnist.npz";

    internal static string ModelPath => SharedData.File(Model);

    /// <summary>The first test image of the given digit, [28, 28, 1] raw pixels 0..255.</summary>
    internal static Tensor Digit(int digit)
    {
        var data = Npz.Load(SharedData.File(Digits));
        var labels = data["y_test"].to_type(int64).data<long>().ToArray();
        int index = Array.IndexOf(labels, (long)digit);
        Assert.True(index >= 0);
        return data["X_test"][index].to_type(float32).reshape(28, 28, 1);
    }

    /// <summary>DIANNA's keywords as image options: nsamples, seed, n_segments, axis_labels, background 0.</summary>
    private static KernelImageOptions Dianna(int nsamples, long? seed = null, int nSegments = 200, string[]? axisLabels = null) => new()
    {
        Kernel = { NSamples = nsamples, Seed = seed },
        Slic = { NSegments = nSegments },
        Background = 0,
        AxisLabels = axisLabels,
    };

    [SharedDataTheory(Model, Digits)]
    [InlineData(0)]
    [InlineData(1)]
    public void Dianna_call_on_a_real_digit_adds_up_to_the_model_outputs(int digit)
    {
        using var scope = NewDisposeScope();
        var image = Digit(digit);
        using var result = OnnxExplain.ExplainImage(ModelPath, image, labels: new[] { 0, 1 }, Dianna(1000, seed: 1, nSegments: 200,
            axisLabels: new[] { "height", "width", "channels" }));

        using var model = new OnnxModel(ModelPath);
        var fx = model.Run(image.permute(2, 0, 1).unsqueeze(0)).data<float>().ToArray();
        var f0 = model.Run(zeros(1, 1, 28, 28)).data<float>().ToArray();
        Assert.True(fx[digit] > fx[1 - digit], "the model recognises the digit");
        Assert.InRange(result.SegmentCount, 100, 260);
        for (int l = 0; l < 2; l++)
        {
            Assert.Equal(fx[l], result.ModelOutputs[l], 1e-5);
            Assert.Equal(f0[l], result.BaseValues[l], 1e-5);
            Assert.Equal(result.ModelOutputs[l] - result.BaseValues[l], result.ShapleyValues(l).Sum(), 1e-6);
            Assert.Equal(result.ModelOutputs[l] - result.BaseValues[l], result.PixelAttributions[l].sum().item<double>(), 1e-6);
            // DIANNA's heatmap: every pixel carries its own segment's value (segment k = feature k).
            var heat = result.Heatmaps[l].data<double>().ToArray();
            var values = result.ShapleyValues(l);
            var labels = result.Segmentation.ToArray();
            for (int p = 0; p < heat.Length; p++) Assert.Equal(values[labels[p]], heat[p]);
        }
        Assert.Equal(new long[] { 2, 28, 28 }, result.Heatmaps.shape);
        // A segment that is entirely background-coloured (black) cannot change the output: exactly 0.
        var pixels = image.reshape(-1).data<float>().ToArray();
        var blackSegments = Enumerable.Range(0, result.SegmentCount)
            .Where(k => result.Segmentation.ToArray().Select((s, p) => (s, p)).Where(t => t.s == k).All(t => pixels[t.p] == 0)).ToArray();
        Assert.NotEmpty(blackSegments);
        Assert.All(blackSegments, k => Assert.Equal(0.0, result.ShapleyValues(0)[k]));
    }

    [SharedDataFact(Model, Digits)]
    public void Onnx_model_reads_names_and_shapes_and_matches_a_channels_first_call()
    {
        using var model = new OnnxModel(ModelPath);
        Assert.Equal(new[] { "input" }, model.InputNames);
        Assert.Equal(new long[] { 1, 28, 28 }, model.SampleShape(0));
        using var scope = NewDisposeScope();
        var image = Digit(1);
        var e = model.ToExplainableModel();
        var output = e.Forward(image.permute(2, 0, 1).unsqueeze(0).expand(3, 1, 28, 28));
        Assert.Equal(new long[] { 3, 2 }, output.shape);
        // The same explanation with a channels-first image.
        using var a = OnnxExplain.ExplainImage(model, image, new[] { 1 }, Dianna(300, seed: 5, nSegments: 50));
        using var b = OnnxExplain.ExplainImage(model, image.permute(2, 0, 1), new[] { 1 },
                                               Dianna(300, seed: 5, nSegments: 50, axisLabels: new[] { "channels", "height", "width" }));
        Assert.Equal(a.ShapleyValues(0), b.ShapleyValues(0));
    }

    [Fact]
    public void Missing_corrupt_and_directory_paths_give_clear_errors()
    {
        string missing = Path.Combine(Path.GetTempPath(), "shapgen-no-such-model.onnx");
        var e1 = Assert.Throws<FileNotFoundException>(() => new OnnxModel(missing));
        Assert.Contains("does not exist", e1.Message);
        string corrupt = Path.Combine(Path.GetTempPath(), $"shapgen-corrupt-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(corrupt, Encoding.ASCII.GetBytes("this is not a protobuf model"));
        try
        {
            var e2 = Assert.Throws<InvalidDataException>(() => new OnnxModel(corrupt));
            Assert.Contains("not a valid ONNX model", e2.Message);
        }
        finally { File.Delete(corrupt); }
        string directory = Directory.CreateTempSubdirectory("shapgen-model-dir-").FullName;
        try
        {
            var e3 = Assert.Throws<ArgumentException>(() => new OnnxModel(directory));
            Assert.Contains($"'{directory}' is a directory", e3.Message);
            Assert.Equal("path", e3.ParamName);
            using var scope = NewDisposeScope();
            var e4 = Assert.Throws<ArgumentException>(() => OnnxExplain.ExplainImage(directory, zeros(28, 28, 1), new[] { 0 }));
            Assert.Contains("is a directory", e4.Message);
        }
        finally { Directory.Delete(directory); }
    }

    [SharedDataFact(Model, Digits)]
    public void Mismatched_inputs_and_outputs_give_clear_errors()
    {
        using var model = new OnnxModel(ModelPath);
        using var scope = NewDisposeScope();
        var e3 = Assert.Throws<ArgumentException>(() => model.Run(zeros(2, 28, 28)));
        Assert.Contains("'input'", e3.Message);
        Assert.Contains("[N, 1, 28, 28]", e3.Message);
        Assert.Contains("[2, 28, 28]", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => OnnxExplain.ExplainImage(model, zeros(28, 28, 1), new[] { 0 }, inputName: "pixels"));
        Assert.Contains("no input 'pixels'", e4.Message);
        var e5 = Assert.Throws<ArgumentException>(() => OnnxExplain.ExplainImage(model, zeros(27, 28, 1), new[] { 0 }));
        Assert.Contains("[N, 1, 28, 28]", e5.Message);
        var e6 = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExplain.ExplainImage(model, Digit(0), new[] { 2 }, Dianna(10)));
        Assert.Contains("2 outputs", e6.Message);
        Assert.Throws<ArgumentException>(() => new OnnxModel(ModelPath, outputName: "logits"));
        // Still usable.
        Assert.Equal(new long[] { 1, 2 }, model.Run(zeros(1, 1, 28, 28)).shape);
    }

    [SharedDataFact(Digits)]
    public void TorchSharp_model_uses_the_same_image_path()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        var net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 2), nn.Softmax(1));
        net.eval();
        var image = Digit(0);
        using var result = KernelImageExplainer.Explain(ExplainableModel.Create(net), image / 255, new[] { 0, 1 },
            new KernelImageOptions
            {
                Kernel = { NSamples = 400, Seed = 2, Link = KernelLink.Logit },
                Slic = { NSegments = 60 },
                Background = 0,
                ModelLayout = ImageLayout.ChannelsFirst,
            });
        using (no_grad())
        {
            var p = net.call((image / 255).permute(2, 0, 1).unsqueeze(0)).to_type(float64).data<double>().ToArray();
            for (int l = 0; l < 2; l++)
            {
                Assert.Equal(Math.Log(p[l] / (1 - p[l])), result.ModelOutputs[l], 1e-5);
                Assert.Equal(result.ModelOutputs[l] - result.BaseValues[l], result.ShapleyValues(l).Sum(), 1e-6);
            }
        }
    }
}
