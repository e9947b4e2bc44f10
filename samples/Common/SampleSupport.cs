using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Samples;

/// <summary>Command-line options shared by the samples.</summary>
/// <remarks>
/// <c>--data DIR</c> (or the environment variable <c>SHAPGEN_DATA</c>) reads real files from DIR; <c>--out DIR</c>
/// chooses where pictures go (default <c>out/</c>); <c>--quick</c> uses tiny settings (the CI smoke test).
/// </remarks>
public sealed class SampleArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Folder with real data files, or null to draw synthetic data.</summary>
    public string? DataDirectory { get; private init; }

    /// <summary>Folder the pictures are written to.</summary>
    public string OutputDirectory { get; private init; } = "out";

    /// <summary>Tiny settings for a smoke test.</summary>
    public bool Quick { get; private init; }

    /// <summary>Parses <c>--name value</c> pairs and flags.</summary>
    public static SampleArgs Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Unexpected argument '{args[i]}'; options look like --name value.");
            string name = args[i][2..];
            if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) values[name] = args[++i];
            else values[name] = "true";
        }
        string? data = values.TryGetValue("data", out var d) ? d : Environment.GetEnvironmentVariable("SHAPGEN_DATA");
        if (data is not null && !Directory.Exists(data))
            throw new DirectoryNotFoundException($"--data '{data}' does not exist.");
        var result = new SampleArgs
        {
            DataDirectory = string.IsNullOrEmpty(data) ? null : data,
            OutputDirectory = values.TryGetValue("out", out var o) ? o : "out",
            Quick = values.ContainsKey("quick"),
        };
        foreach (var (k, v) in values) result._values[k] = v;
        Directory.CreateDirectory(result.OutputDirectory);
        return result;
    }

    /// <summary>An integer option, or <paramref name="fallback"/>.</summary>
    public int Int(string name, int fallback) =>
        _values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A string option, or <paramref name="fallback"/>.</summary>
    public string? String(string name, string? fallback = null) => _values.TryGetValue(name, out var v) ? v : fallback;

    /// <summary>The path of a file inside the data folder, or null when absent.</summary>
    public string? DataFile(params string[] candidates)
    {
        if (DataDirectory is null) return null;
        foreach (var c in candidates)
        {
            string path = Path.Combine(DataDirectory, c);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>A path in the output folder.</summary>
    public string Output(string fileName) => Path.Combine(OutputDirectory, fileName);
}

/// <summary>A small training loop for classifiers, with progress and accuracy.</summary>
public static class Trainer
{
    /// <summary>
    /// Trains with Adam and cross-entropy. <paramref name="forward"/> returns probabilities (softmax output) when
    /// <paramref name="outputsProbabilities"/> is true, otherwise logits.
    /// </summary>
    public static void Fit(nn.Module model, Func<Tensor, Tensor> forward, Tensor images, Tensor labels, int epochs,
                           bool outputsProbabilities, int batchSize = 64, double learningRate = 1e-3, int seed = 0)
    {
        torch.manual_seed(seed);
        var optimizer = optim.Adam(model.parameters(), learningRate);
        long n = images.shape[0];
        model.train();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            using var order = randperm(n);
            double lossSum = SampleConsole.Progress($"training, epoch {epoch + 1}/{epochs}", progress =>
            {
                double sum = 0;
                for (long start = 0; start < n; start += batchSize)
                {
                    using var scope = NewDisposeScope();
                    var index = order.narrow(0, start, Math.Min(batchSize, n - start));
                    var output = forward(images.index_select(0, index));
                    var target = labels.index_select(0, index);
                    var loss = outputsProbabilities
                        ? nn.functional.nll_loss(output.clamp_min(1e-7).log(), target)
                        : nn.functional.cross_entropy(output, target);
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                    sum += loss.item<float>() * index.shape[0];
                    progress.Report(new ExplainProgress(Math.Min(start + batchSize, n), n));
                }
                return sum;
            });
            SampleConsole.Line($"  epoch {epoch + 1}: mean loss {lossSum / n:F4}");
        }
        model.eval();
    }

    /// <summary>Fraction of rows whose arg-max output equals the label.</summary>
    public static double Accuracy(Func<Tensor, Tensor> forward, Tensor images, Tensor labels)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long correct = 0;
        for (long start = 0; start < images.shape[0]; start += 500)
        {
            long size = Math.Min(500, images.shape[0] - start);
            var predicted = forward(images.narrow(0, start, size)).argmax(1);
            correct += predicted.eq(labels.narrow(0, start, size)).sum().item<long>();
        }
        return (double)correct / images.shape[0];
    }
}
