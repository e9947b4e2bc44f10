using System;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using ShapGen.Tests.Infrastructure;
using ShapGen.Tests.Kernel;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Onnx;

/// <summary>Output transforms and session options on the binary-MNIST ONNX model (whose output is log-softmax).</summary>
public sealed class OnnxModelOptionsTests
{
    private const string Model = "binary-mnist-model.onnx";
    private const string Digits = "binary-mnist.npz";

    private static KernelImageOptions Options() => new()
    {
        Kernel = { NSamples = 200, Seed = 3 },
        Slic = { NSegments = 30 },
        Background = 0,
        AxisLabels = new[] { "height", "width", "channels" },
    };

    [SharedDataFact(Model, Digits)]
    public void Ready_made_transforms_apply_their_formula_to_the_raw_output()
    {
        using var scope = NewDisposeScope();
        var batch = stack(new[] { OnnxKernelTests.Digit(0), OnnxKernelTests.Digit(1) }, 0).permute(0, 3, 1, 2);
        using var raw = new OnnxModel(OnnxKernelTests.ModelPath);
        using var exp = new OnnxModel(OnnxKernelTests.ModelPath, new OnnxModelOptions { OutputTransform = OnnxOutputTransforms.Exp });
        using var softmax = new OnnxModel(OnnxKernelTests.ModelPath, new OnnxModelOptions { OutputTransform = OnnxOutputTransforms.Softmax });
        var z = raw.Run(batch).data<float>().ToArray();
        var p = exp.Run(batch).data<float>().ToArray();
        var s = softmax.Run(batch).data<float>().ToArray();
        for (int row = 0; row < 2; row++)
        {
            float a = z[2 * row], b = z[2 * row + 1];
            Assert.Equal(MathF.Exp(a), p[2 * row], 6);
            Assert.Equal(MathF.Exp(b), p[2 * row + 1], 6);
            // log-softmax outputs: their exp already sums to 1, and softmax of them gives the same probabilities.
            Assert.Equal(1f, p[2 * row] + p[2 * row + 1], 5);
            Assert.Equal(MathF.Exp(a) / (MathF.Exp(a) + MathF.Exp(b)), s[2 * row], 6);
        }
    }

    [SharedDataFact(Model, Digits)]
    public void The_path_entry_explains_the_transformed_output()
    {
        using var scope = NewDisposeScope();
        var image = OnnxKernelTests.Digit(1);
        using var plain = OnnxExplain.ExplainImage(OnnxKernelTests.ModelPath, image, new[] { 1 }, Options());
        using var doubled = OnnxExplain.ExplainImage(OnnxKernelTests.ModelPath, image, new[] { 1 }, Options(),
            modelOptions: new OnnxModelOptions { OutputTransform = y => y * 2 });
        // KernelSHAP with the identity link is linear in the model output: the same draws give twice the values.
        Assert.Equal(2 * plain.BaseValues[0], doubled.BaseValues[0], 4);
        var a = plain.ShapleyValues(0).ToArray();
        var b = doubled.ShapleyValues(0).ToArray();
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(2 * a[i] - b[i]) <= 1e-4 * (1 + Math.Abs(b[i])), $"segment {i}: 2 × {a[i]} vs {b[i]}");
        Assert.True(a.Any(v => Math.Abs(v) > 1e-3), "the explanation is not trivially zero");
    }

    [SharedDataFact(Model, Digits)]
    public void The_perturbation_path_entries_pass_the_model_options_on()
    {
        using var scope = NewDisposeScope();
        var image = OnnxKernelTests.Digit(0);
        var hwc = new[] { "height", "width", "channels" };
        using var plain = OnnxExplain.Occlusion(OnnxKernelTests.ModelPath, image, new[] { 1 }, axisLabels: hwc);
        using var doubled = OnnxExplain.Occlusion(OnnxKernelTests.ModelPath, image, new[] { 1 }, axisLabels: hwc,
            modelOptions: new OnnxModelOptions { OutputTransform = y => y * 2 });
        // Occlusion attributions are differences of model outputs: doubling the output doubles them.
        var a = plain.PixelAttributions[0];
        var b = doubled.PixelAttributions[0];
        Assert.True(a.abs().max().item<double>() > 1e-3, "the explanation is not trivially zero");
        Assert.True((a * 2 - b).abs().max().item<double>() <= 1e-4 * (1 + b.abs().max().item<double>()));
    }

    [SharedDataFact(Model)]
    public void A_transform_that_changes_the_row_count_is_refused_naming_it()
    {
        using var model = new OnnxModel(OnnxKernelTests.ModelPath, new OnnxModelOptions { OutputTransform = y => y.sum(0, keepdim: true) });
        using var x = zeros(3, 1, 28, 28);
        var e = Assert.Throws<InvalidOperationException>(() => model.Run(x));
        Assert.Contains("must return a tensor with 3 row(s)", e.Message);
        Assert.Contains("[1, 2]", e.Message);
    }

    [SharedDataFact(Model)]
    public void Session_options_reach_onnx_runtime()
    {
        // ONNX Runtime writes the optimised graph where OptimizedModelFilePath points: proof that the options were used.
        string written = Path.Combine(Path.GetTempPath(), $"shapgen-optimized-{Guid.NewGuid():N}.onnx");
        try
        {
            using var sessionOptions = new SessionOptions { OptimizedModelFilePath = written, IntraOpNumThreads = 1 };
            using var model = new OnnxModel(OnnxKernelTests.ModelPath, new OnnxModelOptions { SessionOptions = sessionOptions, OutputName = "output" });
            Assert.True(File.Exists(written));
            Assert.Equal("output", model.OutputName);
        }
        finally
        {
            File.Delete(written);
        }
    }
}
