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

    public void Run(BenchmarkOptions options)
    {
        int repeats = options.Quick ? 1 : options.Repeats;
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
        foreach (var (name, attr, images) in cases)
        {
            int bytes = 0;
            double seconds = Measure.Median(() => bytes = ImagePlot.RenderPng(attr, images).Length, CPU, repeats);
            Measure.Report(new Dictionary<string, object?>
            {
                ["benchmark"] = Name, ["case"] = $"render_{name}", ["device"] = device.ToString(),
                ["seconds"] = seconds, ["png_bytes"] = bytes,
            });
        }

        var values = Enumerable.Range(0, 10).Select(_ => new[] { randn(new long[] { 100, 1, 28, 28 }, generator: g) }).ToArray();
        using var explanation = new Explanation(values, zeros(10));
        string path = Path.Combine(Path.GetTempPath(), $"shapgen-bench-{Guid.NewGuid():N}.npz");
        try
        {
            foreach (bool compress in new[] { false, true })
            {
                double write = Measure.Median(() => ExplanationExport.SaveNpz(explanation, path, ShapLayout.PerInput, compress), CPU, repeats);
                double read = Measure.Median(() => { foreach (var t in Npz.Load(path).Values) t.Dispose(); }, CPU, repeats);
                Measure.Report(new Dictionary<string, object?>
                {
                    ["benchmark"] = Name, ["case"] = $"npz_100x10x784_{(compress ? "deflate" : "stored")}",
                    ["write_seconds"] = write, ["read_seconds"] = read, ["file_bytes"] = new FileInfo(path).Length,
                });
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
