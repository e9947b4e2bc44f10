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
/// W4: DIANNA's KernelSHAP call (one 28×28 image, SLIC n_segments 200, nsamples 1000, labels [0, 1], background 0)
/// on the binary-MNIST ONNX model and on an equivalent TorchSharp net, against a naive loop that evaluates one
/// coalition per model call (the masking and model calls only: a lower bound of that loop's cost).
/// Options: --onnx PATH (default ../shared/data/binary-mnist-model.onnx above the working directory), --nsamples N.
/// </summary>
public sealed class W4KernelBenchmark : IBenchmark
{
    /// <inheritdoc/>
    public string Name => "W4";

    /// <inheritdoc/>
    public string Description => "KernelSHAP, one 28x28 image, SLIC ~200 segments, nsamples 1000, 2 labels: ONNX and TorchSharp vs a one-coalition-per-call loop";

    /// <inheritdoc/>
    public void Run(BenchmarkOptions options, Reporter reporter)
    {
        int nsamples = options.GetInt("nsamples", 1000);
        var image = SyntheticDigit();
        var device = options.Device;
        var common = new Dictionary<string, object?> { ["workload"] = "W4", ["nsamples"] = nsamples, ["labels"] = 2 };

        string? onnxPath = options.Extra.TryGetValue("onnx", out var p) ? p : FindSharedModel();
        if (onnxPath is not null && File.Exists(onnxPath))
        {
            using var model = new OnnxModel(onnxPath);
            int segments = 0;
            var seg = Slic.Segment(image, channelsLast: true, new SlicOptions { NSegments = 200 });
            var explainable = model.ToExplainableModel();
            var phases = new List<Phase>
            {
                // The loop uses the loaded model too: that is the like-for-like pair; DIANNA's call adds the model load.
                new("shapgen", "ShapGen, model loaded", () =>
                {
                    using var r = OnnxExplain.ExplainImage(model, image, new[] { 0, 1 }, Dianna(nsamples));
                    segments = r.SegmentCount;
                }),
                new("shapgen_dianna_call", "ShapGen, DIANNA's whole call (loads the model)", () =>
                {
                    using var r = OnnxExplain.ExplainImage(onnxPath, image, new[] { 0, 1 }, Dianna(nsamples));
                }),
                new("loop", "one coalition per call", () => NaiveLoop(explainable, image.permute(2, 0, 1), seg, nsamples, CPU)),
            };
            reporter.RunCase(new Dictionary<string, object?>(common)
            {
                ["case"] = "onnx-cpu",
                ["title"] = string.Create(CultureInfo.InvariantCulture, $"W4 KernelSHAP, binary-MNIST ONNX model, {seg.Count} segments, nsamples {nsamples:N0}"),
            }, phases, options.Repeats, CPU, () => new Dictionary<string, object?> { ["segments"] = segments });
        }
        else
        {
            Console.Error.WriteLine($"W4: ONNX model not found ({onnxPath ?? "../shared/data/binary-mnist-model.onnx"}); pass --onnx PATH. Skipping the ONNX case.");
        }

        torch.manual_seed(0);
        var net = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 2), nn.Softmax(1)).to(device);
        net.eval();
        var torchModel = ExplainableModel.Create(net);
        var tsSeg = Slic.Segment(image, channelsLast: true, new SlicOptions { NSegments = 200 });
        var chw = image.permute(2, 0, 1).to(device);
        var tsPhases = new List<Phase>
        {
            new("shapgen", "ShapGen", () =>
            {
                using var r = KernelImageExplainer.Explain(torchModel, image, new[] { 0, 1 }, Dianna(nsamples, ImageLayout.ChannelsFirst));
            }),
            new("loop", "one coalition per call", () =>
            {
                using (no_grad()) NaiveLoop(torchModel, chw, tsSeg, nsamples, device);
            }),
        };
        reporter.RunCase(new Dictionary<string, object?>(common)
        {
            ["case"] = $"torchsharp-{device.type.ToString().ToLowerInvariant()}",
            ["title"] = string.Create(CultureInfo.InvariantCulture, $"W4 KernelSHAP, TorchSharp CNN, {tsSeg.Count} segments, nsamples {nsamples:N0}"),
            ["segments"] = tsSeg.Count,
        }, tsPhases, options.Repeats, device);
    }

    /// <summary>DIANNA's call of the benchmark: nsamples, background 0, 200 segments, sigma 0, channels last, seed 1.</summary>
    private static KernelImageOptions Dianna(int nsamples, ImageLayout? modelLayout = null) => new()
    {
        Kernel = { NSamples = nsamples, Seed = 1 },
        Slic = { NSegments = 200, Sigma = 0 },
        Background = 0,
        AxisLabels = new[] { "height", "width", "channels" },
        ModelLayout = modelLayout,
    };

    /// <summary>One masked image per model call, masks drawn uniformly (the cost does not depend on the draw).</summary>
    private static void NaiveLoop(ExplainableModel model, Tensor chw, Segmentation seg, int nsamples, Device device)
    {
        var rng = new Random(1);
        var labels = seg.ToArray();
        var pixels = chw.cpu().contiguous().data<float>().ToArray();
        var outputs = new float[nsamples * 2];
        for (int s = 0; s < nsamples; s++)
        {
            var keep = new bool[seg.Count];
            for (int k = 0; k < keep.Length; k++) keep[k] = rng.Next(2) == 1;
            var masked = new float[pixels.Length];
            for (int i = 0; i < masked.Length; i++) masked[i] = keep[labels[i]] ? pixels[i] : 0f;
            using var scope = NewDisposeScope();
            var output = model.Forward(tensor(masked, new long[] { 1, 1, 28, 28 }).to(device));
            var o = output.cpu().data<float>().ToArray();
            outputs[2 * s] = o[0];
            outputs[2 * s + 1] = o[1];
        }
        GC.KeepAlive(outputs);
    }

    /// <summary>A drawn "0": a thick ring of raw pixel values 0..255, like the binary-MNIST test images.</summary>
    internal static Tensor SyntheticDigit()
    {
        var data = new float[28 * 28];
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
            {
                double dy = (y - 14) / 9.0, dx = (x - 14) / 6.5;
                double r = Math.Sqrt(dy * dy + dx * dx);
                data[y * 28 + x] = r > 0.7 && r < 1.05 ? (float)Math.Min(255, 255 * (1.2 - Math.Abs(r - 0.87) * 4)) : 0f;
            }
        return tensor(data, new long[] { 28, 28, 1 });
    }

    internal static string? FindSharedModel()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "..", "shared", "data", "binary-mnist-model.onnx");
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        return null;
    }
}
