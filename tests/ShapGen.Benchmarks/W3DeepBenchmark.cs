using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>
/// W3: DeepExplainer on the seed's Fashion-MNIST CNN (Conv2d(1,32,3)+ReLU+MaxPool2d(2)+Flatten+Linear(5408,256)+ReLU+
/// Linear(256,10)+Softmax), 10 explained images, background 100 and 1,000; ShapGen's batched engine against a loop
/// with shap's structure (one sample at a time, one forward and backward per output, reference rows backpropagated
/// too) using the same rules, in the same process, phases interleaved; plus the largest difference between the two
/// results. Options: --bg 100,1000 --n 10 --loop-samples m (loop timed on m samples, scaled to n)
/// --replicate false (skip the replicate-per-output strategy) --threads T.
/// </summary>
public sealed class W3DeepBenchmark : IBenchmark
{
    public string Name => "W3";

    public string Description => "DeepExplainer on the seed CNN: batched engine vs a shap-structured loop (bg 100 / 1000, 10 images)";

    public void Run(BenchmarkOptions options, Reporter reporter)
    {
        var device = options.Device;
        if (options.Extra.TryGetValue("threads", out var threads))
            torch.set_num_threads(int.Parse(threads, CultureInfo.InvariantCulture));
        int n = options.GetInts("n", options.Quick ? "3" : "10")[0];
        int[] backgrounds = options.GetInts("bg", options.Quick ? "100" : "100,1000");
        int loopSamples = Math.Clamp(options.GetInts("loop-samples", n.ToString(CultureInfo.InvariantCulture))[0], 1, n);
        torch.manual_seed(0);
        var model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(5408, 256), nn.ReLU(), nn.Linear(256, 10), nn.Softmax(1));
        model.to(device);
        model.eval();
        var explainable = ExplainableModel.Create(model);
        var images = rand(new long[] { n, 1, 28, 28 }, device: device);
        foreach (int bgRows in backgrounds)
        {
            using var scope = NewDisposeScope();
            var background = rand(new long[] { bgRows, 1, 28, 28 }, device: device);
            using var explainer = new DeepExplainer(explainable, new[] { background });
            var loopImages = images.narrow(0, 0, loopSamples);
            Explanation? engine = null;
            Tensor[][]? loop = null;
            // The loop costs the same per sample by construction: it is timed on loopSamples of the n samples and
            // scaled to n.
            var phases = new List<Phase>
            {
                new("shapgen", "ShapGen", () => { engine?.Dispose(); engine = explainer.Explain(new[] { images }); }),
                new("loop", "shap-structured loop", () =>
                {
                    if (loop is not null) DisposeAll(loop);
                    loop = explainer.ExplainOneSampleAtATime(new[] { loopImages });
                }, Scale: (double)n / loopSamples),
            };
            if (options.Get("replicate", "true") == "true")
                phases.Add(new("replicate", "ShapGen, replicate per output", () =>
                {
                    explainer.ReplicateOutputs = true;
                    try { explainer.Explain(new[] { images }).Dispose(); }
                    finally { explainer.ReplicateOutputs = false; }
                }));

            var fields = new Dictionary<string, object?>
            {
                ["workload"] = "W3", ["case"] = $"bg={bgRows}",
                ["title"] = string.Create(CultureInfo.InvariantCulture, $"W3 Fashion CNN DeepLIFT-SHAP, {n} images, bg {bgRows:N0}"),
                ["samples"] = n, ["background"] = bgRows, ["loop_samples_timed"] = loopSamples,
            };
            reporter.RunCase(fields, phases, options.Repeats, device, () => new Dictionary<string, object?>
            {
                ["max_abs_diff_vs_loop"] = Enumerable.Range(0, 10)
                    .Max(o => (engine![o, 0].narrow(0, 0, loopSamples) - loop![o][0]).abs().max().cpu().item<float>()),
            });
            engine?.Dispose();
            if (loop is not null) DisposeAll(loop);
        }
    }

    private static void DisposeAll(Tensor[][] values)
    {
        foreach (var row in values)
            foreach (var t in row)
                t.Dispose();
    }
}
