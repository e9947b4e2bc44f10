using System;
using System.Collections.Generic;
using System.Globalization;
using ShapGen;
using ShapGen.ScaleOut;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Samples.OrleansMnist;

/// <summary>A small MNIST CNN: conv 5×5 (8) → ReLU → max-pool 2 → linear 1152 → 10 → softmax.</summary>
public sealed class MnistNet : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(1, 8, 5);
    private readonly nn.Module<Tensor, Tensor> pool = nn.MaxPool2d(2);
    private readonly nn.Module<Tensor, Tensor> output = nn.Linear(8 * 12 * 12, 10);

    public MnistNet() : base(nameof(MnistNet)) => RegisterComponents();

    public override Tensor forward(Tensor x) =>
        nn.functional.softmax(output.call(pool.call(nn.functional.relu(conv.call(x))).flatten(1)), 1);
}

/// <summary>
/// The explainer the workers know by name: GradientExplainer on <see cref="MnistNet"/> with the weights file and
/// the background file the job names (paths every worker can read; no model or tensor travels).
/// </summary>
public static class MnistJob
{
    public const string Explainer = "mnist-gradient";

    public static readonly string[] Digits = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };

    public static ExplainJob Create(string rowsPath, string weightsPath, string backgroundPath, int shardSize, int nsamples, long seed, ScalarType dtype) => new()
    {
        Explainer = Explainer,
        Source = DataSource.Npz(rowsPath),
        WeightsPath = weightsPath,
        Seed = seed,
        ShardSize = shardSize,
        Options = new Dictionary<string, string> { ["background"] = backgroundPath, ["nsamples"] = nsamples.ToString(CultureInfo.InvariantCulture), ["dtype"] = dtype.ToString() },
    };

    public static ShardExplainerRegistry Register(ShardExplainerRegistry registry) =>
        registry.Add(Explainer, ctx =>
        {
            var (model, engine) = Load(ctx.Job, ctx.Device);
            return ShardExplainer.Gradient(engine, Options(ctx.Job), model);
        });

    /// <summary>The same explanation in one process: every row in one call (the reference the merged file must equal).</summary>
    public static void ExplainInOneProcess(ExplainJob job, string path)
    {
        var (model, engine) = Load(job, CPU);
        using (model)
        using (engine)
        using (var rows = Npz.Load(job.Source.Location, "x"))
        {
            var options = Options(job);
            options.Seed = job.Seed;
            using var result = engine.Explain(new[] { rows }, options);
            ExplanationExport.SaveNpz(result, path, job.Layout);
        }
    }

    private static GradientExplainOptions Options(ExplainJob job) =>
        new() { NSamples = int.Parse(job.Options["nsamples"], CultureInfo.InvariantCulture) };

    private static (MnistNet Model, GradientExplainer Engine) Load(ExplainJob job, Device device)
    {
        var model = new MnistNet();
        if (job.WeightsPath is null) throw new ArgumentException($"Job '{job.Explainer}' names no weights file.", nameof(job));
        model.load(job.WeightsPath);
        model.to(Enum.Parse<ScalarType>(job.Options["dtype"])).to(device).eval();
        var background = Npz.Load(job.Options["background"], "x").to(device);
        return (model, new GradientExplainer(ExplainableModel.Create(model), new[] { background }, labels: Digits));
    }
}
