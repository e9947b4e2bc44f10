using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>Times the image plot (PNG bytes) and the .npz export/import on typical sample sizes.</summary>
public sealed class PlotsBenchmark : IBenchmark
{
    public string Name => "Plots";

    public string Description => "ImagePlot PNG rendering (3x10 MNIST, 2x3 RGB 224) and .npz export/import";

    public void Run(BenchmarkOptions options, Reporter reporter)
    {
        var device = options.Device;
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        var cases = new List<(string Name, Tensor[] Attr, Tensor Images)>
        {
            ("mnist_3x10", Enumerable.Range(0, 10).Select(_ => randn(new long[] { 3, 1, 28, 28 }, generator: g).to(device)).ToArray(),
             rand(new long[] { 3, 1, 28, 28 }, generator: g).to(device)),
            ("rgb224_2x3", Enumerable.Range(0, 3).Select(_ => randn(new long[] { 2, 3, 224, 224 }, generator: g).to(device)).ToArray(),
             rand(new long[] { 2, 3, 224, 224 }, generator: g).to(device)),
        };
        var pngBytes = new Dictionary<string, object?>();
        reporter.RunCase(new Dictionary<string, object?> { ["workload"] = Name, ["case"] = "render", ["title"] = "ImagePlot PNG rendering" },
            cases.Select(c => new Phase($"render_{c.Name}", $"render {c.Name}",
                () => pngBytes[$"png_bytes_{c.Name}"] = ImagePlot.RenderPng(c.Attr, c.Images).Length)).ToList(),
            options.Repeats, CPU, () => pngBytes);

        var values = Enumerable.Range(0, 10).Select(_ => new[] { randn(new long[] { 100, 1, 28, 28 }, generator: g) }).ToArray();
        using var explanation = new Explanation(values, zeros(10));
        var paths = new[] { false, true }.ToDictionary(c => c, _ => Path.Combine(Path.GetTempPath(), $"shapgen-bench-{Guid.NewGuid():N}.npz"));
        try
        {
            var phases = new List<Phase>();
            foreach (var (compress, path) in paths)
            {
                string kind = compress ? "deflate" : "stored";
                phases.Add(new($"write_{kind}", $"write .npz ({kind})", () => ExplanationExport.SaveNpz(explanation, path, ShapLayout.PerInput, compress)));
                phases.Add(new($"read_{kind}", $"read .npz ({kind})", () => { foreach (var t in Npz.Load(path).Values) t.Dispose(); }));
            }
            reporter.RunCase(new Dictionary<string, object?> { ["workload"] = Name, ["case"] = "npz_100x10x784", ["title"] = ".npz export and import, 100×10×784" },
                phases, options.Repeats, CPU,
                () => paths.ToDictionary(kv => $"file_bytes_{(kv.Key ? "deflate" : "stored")}", kv => (object?)new FileInfo(kv.Value).Length));
        }
        finally
        {
            foreach (var path in paths.Values) File.Delete(path);
        }
    }
}
