using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>
/// W6: integrated gradients for all 10 outputs of a small MNIST CNN (Conv2d(1,32,3)+ReLU+Flatten+Linear(21632,10)+
/// Softmax), ShapGen's engine (all samples, steps and outputs from batched forwards, one backward per output) against
/// a loop structured as Captum runs it: one target at a time, the N × n_steps scaled rows cut into chunks of
/// internal_batch_size, a forward and a backward per chunk. Both use the midpoint rule (its points and weights are
/// simple to write out), in the same process, phases interleaved; plus the largest difference of the results.
/// Options: --n 10 --steps 50 --internal-batch-size 50.
/// </summary>
public sealed class W6CaptumLoopBenchmark : IBenchmark
{
    public string Name => "W6";

    public string Description => "IntegratedGradients, all 10 outputs of a small CNN: batched engine vs a Captum-structured loop (one target at a time, internal_batch_size)";

    public void Run(BenchmarkOptions options, Reporter reporter)
    {
        var device = options.Device;
        int n = options.GetInts("n", options.Quick ? "2" : "10")[0];
        int steps = options.GetInts("steps", options.Quick ? "8" : "50")[0];
        int chunk = options.GetInts("internal-batch-size", options.Quick ? "8" : "50")[0];
        torch.manual_seed(0);
        var model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 26 * 26, 10), nn.Softmax(1));
        model.to(device);
        model.eval();
        var images = rand(new long[] { n, 1, 28, 28 }, device: device);
        var engine = new IntegratedGradients(ExplainableModel.Create(model));
        var engineOptions = new IntegratedGradientsOptions { NSteps = steps, Method = IntegrationMethod.RiemannMiddle, MaxBatchRows = options.Extra.ContainsKey("max-rows") ? options.GetInt("max-rows", 0) : null };
        Explanation? ours = null;
        Tensor[]? loop = null;
        var phases = new List<Phase>
        {
            new("shapgen", "ShapGen", () => { ours?.Dispose(); ours = engine.Explain(new[] { images }, null, engineOptions); }),
            new("loop", "Captum-structured loop", () =>
            {
                if (loop is not null) foreach (var t in loop) t.Dispose();
                loop = CaptumLoop(model, images, steps, chunk);
            }),
        };
        var fields = new Dictionary<string, object?>
        {
            ["workload"] = "W6", ["case"] = string.Create(CultureInfo.InvariantCulture, $"n={n},steps={steps}"),
            ["title"] = string.Create(CultureInfo.InvariantCulture, $"W6 integrated gradients, small CNN, N = {n}, {steps} steps, 10 outputs"),
            ["samples"] = n, ["steps"] = steps, ["internal_batch_size"] = chunk,
        };
        reporter.RunCase(fields, phases, options.Repeats, device, () => new Dictionary<string, object?>
        {
            ["max_abs_diff_vs_loop"] = Enumerable.Range(0, 10).Max(o => (ours![o, 0] - loop![o]).abs().max().cpu().item<float>()),
        });
        ours?.Dispose();
        if (loop is not null) foreach (var t in loop) t.Dispose();
    }

    /// <summary>Captum's order of work: per target, rows (step, sample) in chunks, the gradient of that target only.</summary>
    private static Tensor[] CaptumLoop(nn.Module<Tensor, Tensor> model, Tensor x, int steps, int chunk)
    {
        long n = x.shape[0];
        var result = new Tensor[10];
        for (int target = 0; target < 10; target++)
        {
            using var scope = NewDisposeScope();
            var alphas = (arange(steps, dtype: x.dtype, device: x.device) + 0.5) / steps;
            var scaled = (alphas.view(steps, 1, 1, 1, 1) * x.unsqueeze(0)).reshape(steps * n, 1, 28, 28);
            var grads = new List<Tensor>();
            for (long start = 0; start < steps * n; start += chunk)
            {
                using var grad = enable_grad();
                var rows = scaled.narrow(0, start, Math.Min(chunk, steps * n - start)).detach().requires_grad_();
                var y = model.call(rows);
                grads.Add(autograd.grad(new[] { y.select(1, target).sum() }, new[] { rows })[0].detach());
            }
            var total = cat(grads, 0).view(steps, n, 1, 28, 28).sum(0) / steps;
            result[target] = (total * x).MoveToOuterDisposeScope();
        }
        return result;
    }
}
