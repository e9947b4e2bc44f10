using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>
/// How the time of one explanation depends on the rows per batch: ShapGen's own choice ("auto", whose rows and
/// measured bytes per row are reported) against fixed <see cref="ExplainOptions.MaxBatchRows"/> values, interleaved,
/// on the models of W1 (GradientExplainer, two-input MNIST CNN: costly rows), W3 (DeepExplainer, the seed CNN) and a
/// small tabular MLP under KernelExplainer (cheap rows, where per-call overhead counts). It is the measurement behind
/// the CPU working-set rule (<c>Batching.CpuWorkingSetRows</c>).
/// Options: --rows 32,64,128,256,512,1024,2048  --cases gradient,deep,kernel  --n 3 (gradient) / 10 (deep) / 5
/// (kernel)  --nsamples 200 (gradient) / 2048 (kernel)  --bg 1000 (gradient) / 100 (deep, kernel).
/// </summary>
public sealed class BatchRowsBenchmark : IBenchmark
{
    /// <inheritdoc />
    public string Name => "rows";

    /// <inheritdoc />
    public string Description => "time per explanation against rows per batch (auto vs fixed MaxBatchRows) on the W1 and W3 models";

    /// <inheritdoc />
    public void Run(BenchmarkOptions options, Reporter reporter)
    {
        var device = options.Device;
        int[] rows = options.GetInts("rows", options.Quick ? "64,512" : "32,64,128,256,512,1024,2048");
        var cases = options.Get("cases", "gradient,deep,kernel").Split(',');
        torch.manual_seed(0);
        if (cases.Contains("gradient")) Gradient(options, reporter, device, rows);
        if (cases.Contains("deep")) Deep(options, reporter, device, rows);
        if (cases.Contains("kernel")) Kernel(options, reporter, device, rows);
    }

    private static void Kernel(BenchmarkOptions options, Reporter reporter, Device device, int[] rows)
    {
        int n = options.GetInt("n", 5);
        int nsamples = options.GetInt("nsamples", options.Quick ? 256 : 2048);
        int bgRows = options.GetInt("bg", 100);
        const int Features = 20;
        var model = nn.Sequential(nn.Linear(Features, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3));
        model.to(device).eval();
        var bg = rand(new long[] { bgRows, Features }, device: device);
        var x = rand(new long[] { n, Features }, device: device);
        using var explainer = new KernelExplainer(ExplainableModel.Create(model), new[] { bg });
        var sizing = new BatchSizingLog();
        KernelExplainOptions With(int? max, ILogger? logger = null) =>
            new() { NSamples = nsamples, Seed = 1, MaxBatchRows = max, Logger = logger };
        using (explainer.Explain(new[] { x }, With(null, sizing))) { }
        var phases = Phases(rows, max => { using var e = explainer.Explain(new[] { x }, With(max)); });
        reporter.RunCase(Fields("kernel", $"KernelExplainer, MLP {Features}-64-64-3, N = {n}, nsamples {nsamples}, background {bgRows}: {n * nsamples * bgRows} rows", sizing), phases, options.Repeats, device);
    }

    private static void Gradient(BenchmarkOptions options, Reporter reporter, Device device, int[] rows)
    {
        int n = options.GetInt("n", 3);
        int nsamples = options.GetInt("nsamples", options.Quick ? 50 : 200);
        int bgRows = options.GetInt("bg", 1000);
        var net = new ShapGen.Samples.TwoInput.TwoInputMnist();
        net.to(device).eval();
        var bg = rand(new long[] { bgRows, 1, 28, 28 }, device: device);
        var x = rand(new long[] { n, 1, 28, 28 }, device: device);
        using var explainer = new GradientExplainer(ExplainableModel.Create(net), new[] { bg, bg });
        var sizing = new BatchSizingLog();
        GradientExplainOptions With(int? max, ILogger? logger = null) =>
            new() { NSamples = nsamples, Seed = 1, MaxBatchRows = max, Logger = logger };
        using (explainer.Explain(new[] { x, x }, With(null, sizing))) { }
        var phases = Phases(rows, max => { using var e = explainer.Explain(new[] { x, x }, With(max)); });
        reporter.RunCase(Fields("gradient", $"GradientExplainer, two-input MNIST, N = {n}, nsamples {nsamples}: {n * nsamples} rows", sizing), phases, options.Repeats, device);
    }

    private static void Deep(BenchmarkOptions options, Reporter reporter, Device device, int[] rows)
    {
        int n = options.GetInt("n", options.Quick ? 3 : 10);
        int bgRows = options.GetInt("bg", 100);
        var model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(5408, 256), nn.ReLU(), nn.Linear(256, 10), nn.Softmax(1));
        model.to(device).eval();
        var bg = rand(new long[] { bgRows, 1, 28, 28 }, device: device);
        var x = rand(new long[] { n, 1, 28, 28 }, device: device);
        using var explainer = new DeepExplainer(ExplainableModel.Create(model), new[] { bg });
        var sizing = new BatchSizingLog();
        using (explainer.Explain(new[] { x }, new DeepExplainOptions { Logger = sizing })) { }
        var phases = Phases(rows, max => { using var e = explainer.Explain(new[] { x }, new DeepExplainOptions { MaxBatchRows = max }); });
        reporter.RunCase(Fields("deep", $"DeepExplainer, seed CNN, N = {n}, background {bgRows}: {n * bgRows} rows", sizing), phases, options.Repeats, device);
    }

    private static List<Phase> Phases(int[] rows, Action<int?> explain)
    {
        var phases = new List<Phase> { new("auto", "ShapGen's choice", () => explain(null)) };
        phases.AddRange(rows.Select(r => new Phase($"rows_{r}", $"{r} rows per batch", () => explain(r))));
        return phases;
    }

    private static Dictionary<string, object?> Fields(string name, string title, BatchSizingLog sizing) => new()
    {
        ["workload"] = "rows", ["case"] = name, ["title"] = title,
        ["auto_rows"] = sizing.Rows.Count == 0 ? null : string.Join(",", sizing.Rows),
        ["auto_bytes_per_row"] = sizing.BytesPerRow.Count == 0 ? null : string.Join(",", sizing.BytesPerRow.Select(b => b.ToString("F0", CultureInfo.InvariantCulture))),
    };

    /// <summary>Keeps the rows and bytes per row of ShapGen's <see cref="ShapGenEvents.BatchSized"/> events.</summary>
    private sealed class BatchSizingLog : ILogger
    {
        public List<long> Rows { get; } = new();

        public List<double> BytesPerRow { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId != ShapGenEvents.BatchSized || state is not IReadOnlyList<KeyValuePair<string, object?>> fields) return;
            foreach (var (key, value) in fields)
            {
                if (key == "Rows" && value is long r) Rows.Add(r);
                if (key == "BytesPerRow" && value is double b) BytesPerRow.Add(b);
            }
        }
    }
}
