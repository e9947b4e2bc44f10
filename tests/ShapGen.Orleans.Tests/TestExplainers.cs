using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using ShapGen.ScaleOut;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Orleans.Tests;

/// <summary>
/// A small model (Linear(6, 8) → ReLU → Linear(8, 3), float64 (see docs/scale-out.md on float32), weights from a fixed generator) and the three engines
/// on it, registered by name as a worker registers them; and the same engines called directly, as one process would.
/// </summary>
public static class TestExplainers
{
    public const int Features = 6;

    public static TheoryData<string> Engines => new() { "gradient", "deep", "kernel" };

    public static readonly string[] Labels = { "a", "b", "c" };

    public static nn.Module<Tensor, Tensor> Model()
    {
        var model = nn.Sequential(nn.Linear(Features, 8), nn.ReLU(), nn.Linear(8, 3));
        using var g = new Generator(17);
        using (no_grad())
            foreach (var p in model.parameters())
            {
                using var w = randn(p.shape, generator: g);
                p.copy_(w);
            }
        model.to(float64).eval();
        return model;
    }

    public static Tensor Background()
    {
        using var g = new Generator(5);
        return randn(new long[] { 7, Features }, dtype: float64, generator: g);
    }

    public static Tensor Rows(long count, ulong seed = 9)
    {
        using var g = new Generator(seed);
        return randn(new[] { count, (long)Features }, dtype: float64, generator: g);
    }

    /// <summary>An .npz data set of <paramref name="count"/> rows in <paramref name="folder"/>.</summary>
    public static DataSource WriteRows(string folder, long count)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "rows.npz");
        using var rows = Rows(count);
        Npz.Save(path, new[] { new KeyValuePair<string, Tensor>("x", rows) });
        return DataSource.Npz(path);
    }

    public static ExplainJob Job(string engine, DataSource source, int shardSize, long seed = 123) => new()
    {
        Explainer = engine, Source = source, Seed = seed, ShardSize = shardSize,
        Options = new Dictionary<string, string> { ["nsamples"] = engine == "kernel" ? "40" : "16" },
    };

    /// <summary>Registers the three engines under their names, reading <c>nsamples</c> from the job's options.</summary>
    public static ShardExplainerRegistry Register(ShardExplainerRegistry registry) => registry
        .Add("gradient", ctx =>
        {
            var (model, background) = (Model(), Background());
            return ShardExplainer.Gradient(new GradientExplainer(ExplainableModel.Create(model), new[] { background }, labels: Labels),
                new GradientExplainOptions { NSamples = NSamples(ctx.Job), ReturnVariances = true }, model);
        })
        .Add("deep", ctx =>
        {
            var (model, background) = (Model(), Background());
            return ShardExplainer.Deep(new DeepExplainer(ExplainableModel.Create(model), new[] { background }, labels: Labels), new DeepExplainOptions(), model);
        })
        .Add("kernel", ctx =>
        {
            var (model, background) = (Model(), Background());
            return ShardExplainer.Kernel(new KernelExplainer(ExplainableModel.Create(model), new[] { background }, labels: Labels),
                new KernelExplainOptions { NSamples = NSamples(ctx.Job) }, model);
        });

    private static int NSamples(ExplainJob job) => int.Parse(job.Options["nsamples"], CultureInfo.InvariantCulture);

    /// <summary>The whole data set explained in one call of the engine itself, written as ExplanationExport writes it.</summary>
    public static byte[] SingleProcessNpz(string engine, Tensor rows, long seed)
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var background = new[] { Background() };
        var inputs = new[] { rows };
        Explanation result;
        switch (engine)
        {
            case "gradient":
                using (var e = new GradientExplainer(ExplainableModel.Create(model), background, labels: Labels))
                    result = e.Explain(inputs, new GradientExplainOptions { NSamples = 16, ReturnVariances = true, Seed = seed });
                break;
            case "deep":
                using (var e = new DeepExplainer(ExplainableModel.Create(model), background, labels: Labels))
                    result = e.Explain(inputs, new DeepExplainOptions { Seed = seed });
                break;
            case "kernel":
                using (var e = new KernelExplainer(ExplainableModel.Create(model), background, labels: Labels))
                    result = e.Explain(inputs, new KernelExplainOptions { NSamples = 40, Seed = seed });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(engine), engine, "Unknown engine.");
        }
        using (result)
        using (var stream = new MemoryStream())
        {
            ExplanationExport.WriteNpz(result, stream, ShapLayout.PerInput);
            return stream.ToArray();
        }
    }
}
