using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>
/// W3: DeepExplainer on the seed's Fashion-MNIST CNN (Conv2d(1,32,3)+ReLU+MaxPool2d(2)+Flatten+Linear(5408,256)+ReLU+
/// Linear(256,10)+Softmax), 10 explained images, background 100 and 1,000; ShapGen's batched engine against a loop
/// with shap's structure (one sample at a time, one forward and backward per output) using the same rules.
/// Options: --bg 100,1000 --n 10 --repeats 3 (engine) --loop-samples m (loop timed on m samples, scaled to n) --threads T.
/// </summary>
public sealed class W3DeepBenchmark : IBenchmark
{
    public string Name => "W3";

    public string Description => "DeepExplainer on the seed CNN: batched engine vs a shap-structured loop (bg 100 / 1000, 10 images)";

    public void Run(BenchmarkOptions options)
    {
        var device = options.Device;
        if (options.Extra.TryGetValue("threads", out var threads))
            torch.set_num_threads(int.Parse(threads, System.Globalization.CultureInfo.InvariantCulture));
        int n = options.GetInts("n", options.Quick ? "3" : "10")[0];
        int[] backgrounds = options.GetInts("bg", options.Quick ? "100" : "100,1000");
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
            Explanation? last = null;
            double engine = Measure.Median(() =>
            {
                last?.Dispose();
                last = explainer.Explain(new[] { images });
            }, device, options.Repeats);
            // The other multi-output strategy: replicate the batch once per output, one forward and one backward.
            explainer.ReplicateOutputs = true;
            double replicated = Measure.Median(() => explainer.Explain(new[] { images }).Dispose(), device, 1);
            explainer.ReplicateOutputs = false;
            // The loop costs the same per sample by construction (one sample at a time): warm it up on one sample,
            // then time it on --loop-samples of the n samples (default all) and scale to n.
            int loopSamples = Math.Clamp(options.GetInts("loop-samples", n.ToString(System.Globalization.CultureInfo.InvariantCulture))[0], 1, n);
            DisposeAll(explainer.ExplainOneSampleAtATime(new[] { images.narrow(0, 0, 1) }));
            Measure.Sync(device);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var naive = explainer.ExplainOneSampleAtATime(new[] { images.narrow(0, 0, loopSamples) });
            Measure.Sync(device);
            double loopTimed = watch.Elapsed.TotalSeconds;
            double loop = loopTimed * n / loopSamples;
            double maxDiff = Enumerable.Range(0, 10)
                .Max(o => (last![o, 0].narrow(0, 0, loopSamples) - naive[o][0]).abs().max().cpu().item<float>());
            var fields = new Dictionary<string, object?>
            {
                ["benchmark"] = "W3",
                ["device"] = device.ToString(),
                ["threads"] = torch.get_num_threads(),
                ["samples"] = n,
                ["background"] = bgRows,
                ["shapgen_s"] = Math.Round(engine, 4),
                ["shapgen_replicate_outputs_s"] = Math.Round(replicated, 4),
                ["shap_structured_loop_s"] = Math.Round(loop, 4),
                ["loop_samples_timed"] = loopSamples,
                ["loop_timed_s"] = Math.Round(loopTimed, 4),
                ["speedup"] = Math.Round(loop / engine, 2),
                ["max_abs_diff"] = maxDiff,
                ["repeats"] = options.Repeats,
            };
            Measure.Report(fields);
            last?.Dispose();
            DisposeAll(naive);
        }
    }

    private static void DisposeAll(Tensor[][] values)
    {
        foreach (var row in values)
            foreach (var t in row)
                t.Dispose();
    }
}
