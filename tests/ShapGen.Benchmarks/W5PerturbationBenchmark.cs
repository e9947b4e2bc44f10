using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ShapGen;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>
/// W5: the perturbation methods on one 28×28 image with DIANNA's and shap's usual settings (RISE 1000 masks, LIME 1000
/// samples on ~50 superpixels, Partition max_evals 500 with blur(128,128), occlusion 4×4 windows with stride 2, feature
/// ablation of ~50 superpixels), on the binary-MNIST ONNX model and on an equivalent TorchSharp net, each against a loop
/// that evaluates the same number of perturbed images one per model call (the masking and model calls only: a lower
/// bound of that loop's cost). Options: --onnx PATH, --masks N, --lime-samples N, --max-evals N, --methods a,b.
/// </summary>
public sealed class W5PerturbationBenchmark : IBenchmark
{
    /// <inheritdoc/>
    public string Name => "W5";

    /// <inheritdoc/>
    public string Description => "RISE, LIME, Partition, Occlusion, FeatureAblation on one 28x28 image: ONNX and TorchSharp vs a one-perturbation-per-call loop";

    private static readonly string[] Hwc = { "height", "width", "channels" };

    /// <inheritdoc/>
    public void Run(BenchmarkOptions options, Reporter reporter)
    {
        int masks = options.GetInt("masks", options.Quick ? 50 : 1000);
        int limeSamples = options.GetInt("lime-samples", options.Quick ? 50 : 1000);
        int maxEvals = options.GetInt("max-evals", options.Quick ? 40 : 500);
        var methods = options.Get("methods", "rise,lime,partition,occlusion,ablation").Split(',');
        var image = W4KernelBenchmark.SyntheticDigit();
        var slic = new SlicOptions { NSegments = 50, Sigma = 0 };
        int segments = Slic.Segment(image, channelsLast: true, slic).Count;
        var device = options.Device;

        // The number of perturbed images each method evaluates for this image (beyond f(x) and f(baseline)).
        var rows = new Dictionary<string, int>
        {
            ["rise"] = masks, ["lime"] = limeSamples - 1, ["partition"] = maxEvals, ["occlusion"] = 13 * 13, ["ablation"] = segments,
        };

        string? onnxPath = options.Extra.TryGetValue("onnx", out var p) ? p : W4KernelBenchmark.FindSharedModel();
        if (onnxPath is not null && File.Exists(onnxPath))
        {
            using var onnx = new OnnxModel(onnxPath);
            var model = onnx.ToExplainableModel();
            foreach (var method in methods)
                RunCase(reporter, options, method, "onnx-cpu", "binary-MNIST ONNX model", rows[method], CPU,
                    () => Onnx(onnx, image, method, masks, limeSamples, maxEvals, slic),
                    () => Loop(model, image.permute(2, 0, 1), rows[method], CPU));
        }
        else
        {
            Console.Error.WriteLine($"W5: ONNX model not found ({onnxPath ?? "../shared/data/binary-mnist-model.onnx"}); pass --onnx PATH. Skipping the ONNX cases.");
        }

        torch.manual_seed(0);
        var net = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 2), nn.Softmax(1)).to(device);
        net.eval();
        var torchModel = ExplainableModel.Create(net);
        foreach (var method in methods)
            RunCase(reporter, options, method, $"torchsharp-{device.type.ToString().ToLowerInvariant()}", "TorchSharp CNN", rows[method], device,
                () => TorchSharp(torchModel, image, method, masks, limeSamples, maxEvals, slic),
                () => { using (no_grad()) Loop(torchModel, image.permute(2, 0, 1), rows[method], device); });
    }

    private static void RunCase(Reporter reporter, BenchmarkOptions options, string method, string backend, string what, int rows,
                                Device device, Action shapgen, Action loop)
    {
        var phases = new List<Phase>
        {
            new("shapgen", "ShapGen", shapgen),
            new("loop", "one perturbation per call", loop),
        };
        reporter.RunCase(new Dictionary<string, object?>
        {
            ["workload"] = "W5",
            ["case"] = $"{method}-{backend}",
            ["method"] = method,
            ["perturbations"] = rows,
            ["title"] = string.Create(CultureInfo.InvariantCulture, $"W5 {method}, {what}, {rows:N0} perturbed images"),
        }, phases, options.Repeats, device);
    }

    private static void Onnx(OnnxModel model, Tensor image, string method, int masks, int limeSamples, int maxEvals, SlicOptions slic)
    {
        using var result = method switch
        {
            "rise" => OnnxExplain.Rise(model, image, new[] { 0, 1 }, new RiseOptions { NMasks = masks, PKeep = 0.5, Seed = 1 }, Hwc),
            "lime" => OnnxExplain.Lime(model, image, new[] { 0, 1 }, new LimeOptions { NumSamples = limeSamples, Seed = 1 }, slic, hideColor: 0, axisLabels: Hwc),
            "partition" => OnnxExplain.Partition(model, image, new[] { 0, 1 }, new PartitionOptions { MaxEvals = maxEvals, Blur = (128, 128) }, Hwc),
            "occlusion" => OnnxExplain.Occlusion(model, image, new[] { 0, 1 }, Windows(), Hwc),
            "ablation" => OnnxExplain.FeatureAblation(model, image, new[] { 0, 1 }, slic: slic, axisLabels: Hwc),
            _ => throw new ArgumentException($"Unknown method '{method}'; known: rise, lime, partition, occlusion, ablation."),
        };
    }

    private static void TorchSharp(ExplainableModel model, Tensor image, string method, int masks, int limeSamples, int maxEvals, SlicOptions slic)
    {
        var layout = ImageLayout.ChannelsFirst;
        using var result = method switch
        {
            "rise" => PerturbationImageExplainer.Rise(model, image, new[] { 0, 1 }, new RiseOptions { NMasks = masks, PKeep = 0.5, Seed = 1 }, Hwc, layout),
            "lime" => PerturbationImageExplainer.Lime(model, image, new[] { 0, 1 }, new LimeOptions { NumSamples = limeSamples, Seed = 1 }, slic, 0, Hwc, layout),
            "partition" => PerturbationImageExplainer.Partition(model, image, new[] { 0, 1 }, new PartitionOptions { MaxEvals = maxEvals, Blur = (128, 128) }, Hwc, layout),
            "occlusion" => PerturbationImageExplainer.Occlusion(model, image, new[] { 0, 1 }, Windows(), Hwc, layout),
            "ablation" => PerturbationImageExplainer.FeatureAblation(model, image, new[] { 0, 1 }, slic: slic, axisLabels: Hwc, modelLayout: layout),
            _ => throw new ArgumentException($"Unknown method '{method}'; known: rise, lime, partition, occlusion, ablation."),
        };
    }

    /// <summary>Captum-style 4×4 windows with stride 2 over the one channel: 13 × 13 positions on 28 × 28.</summary>
    private static OcclusionOptions Windows() => new()
    {
        SlidingWindowShapes = new[] { new long[] { 1, 4, 4 } },
        Strides = new[] { new long[] { 1, 2, 2 } },
    };

    /// <summary>One masked image per model call, pixels kept at random (the cost does not depend on the mask).</summary>
    private static void Loop(ExplainableModel model, Tensor chw, int rows, Device device)
    {
        var rng = new Random(1);
        var pixels = chw.cpu().contiguous().data<float>().ToArray();
        var outputs = new float[rows * 2];
        for (int r = 0; r < rows; r++)
        {
            var masked = new float[pixels.Length];
            for (int i = 0; i < masked.Length; i++) masked[i] = rng.Next(2) == 1 ? pixels[i] : 0f;
            using var scope = NewDisposeScope();
            var o = model.Forward(tensor(masked, new long[] { 1, 1, 28, 28 }).to(device)).cpu().data<float>().ToArray();
            outputs[2 * r] = o[0];
            outputs[2 * r + 1] = o[1];
        }
        GC.KeepAlive(outputs);
    }
}
