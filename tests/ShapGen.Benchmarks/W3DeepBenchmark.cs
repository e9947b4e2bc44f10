using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>
/// W3: DeepExplainer on the seed's Fashion-MNIST CNN (Conv2d(1,32,3)+ReLU+MaxPool2d(2)+Flatten+Linear(5408,256)+ReLU+
/// Linear(256,10)+Softmax), 10 explained images, background 100 and 1,000; ShapGen's batched engine against a loop
/// with shap's structure (one sample at a time, one forward and backward per output, reference rows backpropagated
/// too) using the same rules, in the same process. Wall and process CPU seconds (CPU time is steadier on a shared
/// machine); each phase is printed as it finishes.
/// Options: --bg 100,1000 --n 10 --repeats 3 (engine) --loop-samples m (loop timed on m samples, scaled to n)
/// --replicate false (skip the replicate-per-output strategy) --threads T.
/// </summary>
public sealed class W3DeepBenchmark : IBenchmark
{
    public string Name => "W3";

    public string Description => "DeepExplainer on the seed CNN: batched engine vs a shap-structured loop (bg 100 / 1000, 10 images)";

    public void Run(BenchmarkOptions options)
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
            var common = new Dictionary<string, object?>
            {
                ["benchmark"] = "W3", ["device"] = device.ToString(), ["threads"] = torch.get_num_threads(),
                ["samples"] = n, ["background"] = bgRows,
            };

            // The loop costs the same per sample by construction: warm it up on one sample, time it on
            // loopSamples of the n samples and scale to n.
            DisposeAll(explainer.ExplainOneSampleAtATime(new[] { images.narrow(0, 0, 1) }));
            Tensor[][]? naive = null;
            var loopTimed = Time(() => naive = explainer.ExplainOneSampleAtATime(new[] { images.narrow(0, 0, loopSamples) }), device, 1, warm: false);
            double scale = (double)n / loopSamples;
            var loop = (Wall: loopTimed.Wall * scale, Cpu: loopTimed.Cpu * scale);
            Measure.Report(new Dictionary<string, object?>(common)
            {
                ["phase"] = "shap-structured loop", ["samples_timed"] = loopSamples,
                ["wall_s"] = Math.Round(loop.Wall, 3), ["cpu_s"] = Math.Round(loop.Cpu, 3),
            });

            Explanation? last = null;
            var engine = Time(() => { last?.Dispose(); last = explainer.Explain(new[] { images }); }, device, options.Repeats, warm: true);
            Measure.Report(new Dictionary<string, object?>(common)
            {
                ["phase"] = "shapgen", ["wall_s"] = Math.Round(engine.Wall, 3), ["cpu_s"] = Math.Round(engine.Cpu, 3),
            });

            (double Wall, double Cpu)? replicated = null;
            if (options.Get("replicate", "true") == "true")
            {
                explainer.ReplicateOutputs = true;
                replicated = Time(() => explainer.Explain(new[] { images }).Dispose(), device, 1, warm: false);
                explainer.ReplicateOutputs = false;
            }

            double maxDiff = Enumerable.Range(0, 10)
                .Max(o => (last![o, 0].narrow(0, 0, loopSamples) - naive![o][0]).abs().max().cpu().item<float>());
            Measure.Report(new Dictionary<string, object?>(common)
            {
                ["phase"] = "summary",
                ["shapgen_wall_s"] = Math.Round(engine.Wall, 3),
                ["shapgen_cpu_s"] = Math.Round(engine.Cpu, 3),
                ["loop_wall_s"] = Math.Round(loop.Wall, 3),
                ["loop_cpu_s"] = Math.Round(loop.Cpu, 3),
                ["loop_samples_timed"] = loopSamples,
                ["speedup_wall"] = Math.Round(loop.Wall / engine.Wall, 2),
                ["speedup_cpu"] = Math.Round(loop.Cpu / engine.Cpu, 2),
                ["replicate_outputs_wall_s"] = replicated is { } r ? Math.Round(r.Wall, 3) : null,
                ["replicate_outputs_cpu_s"] = replicated is { } r2 ? Math.Round(r2.Cpu, 3) : null,
                ["max_abs_diff_vs_loop"] = maxDiff,
                ["repeats"] = options.Repeats,
            });
            last?.Dispose();
            DisposeAll(naive!);
        }
    }

    /// <summary>Median wall and process CPU seconds of <paramref name="repeats"/> runs, after one warm-up when asked.</summary>
    private static (double Wall, double Cpu) Time(Action action, Device device, int repeats, bool warm)
    {
        if (warm)
        {
            action();
            Measure.Sync(device);
        }
        var process = Process.GetCurrentProcess();
        var walls = new List<double>();
        var cpus = new List<double>();
        for (int r = 0; r < Math.Max(1, repeats); r++)
        {
            Measure.Sync(device);
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            action();
            Measure.Sync(device);
            walls.Add(watch.Elapsed.TotalSeconds);
            process.Refresh();
            cpus.Add((process.TotalProcessorTime - cpu0).TotalSeconds);
        }
        walls.Sort();
        cpus.Sort();
        return (walls[walls.Count / 2], cpus[cpus.Count / 2]);
    }

    private static void DisposeAll(Tensor[][] values)
    {
        foreach (var row in values)
            foreach (var t in row)
                t.Dispose();
    }
}
