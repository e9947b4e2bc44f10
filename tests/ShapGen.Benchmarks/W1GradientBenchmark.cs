using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>
/// W1 (issue 3): expected gradients on the two-input MNIST model, background 60,000 rows, 10 outputs, nsamples 200;
/// ShapGen against (a) a naive loop with shap's structure and (b) the ideal batched TorchSharp loop
/// (shared/bench/ideal_reference.py <c>ideal_w1</c>), all in one process.
/// Options: --n 3,1000  --bg 60000  --nsamples 200  --naive-samples 10 (samples timed for (a), scaled to n)
/// --ideal-rows 4096 (rows per ideal batch; PyTorch's reference uses 25000)  --modes retain[,replicate]
/// --threads T.  --quick: n 3,20, bg 6000, nsamples 50.
/// </summary>
public sealed class W1GradientBenchmark : IBenchmark
{
    private const int Outputs = 10;

    /// <inheritdoc />
    public string Name => "W1";

    /// <inheritdoc />
    public string Description => "GradientExplainer on two-input MNIST (bg 60k, 10 outputs, nsamples 200) vs naive shap-style loop and ideal batched loop";

    /// <inheritdoc />
    public void Run(BenchmarkOptions options, Reporter reporter)
    {
        var device = options.Device;
        int[] sizes = options.GetInts("n", options.Quick ? "3,20" : "3,1000");
        int bgRows = int.Parse(options.Get("bg", options.Quick ? "6000" : "60000"), CultureInfo.InvariantCulture);
        int nsamples = int.Parse(options.Get("nsamples", options.Quick ? "50" : "200"), CultureInfo.InvariantCulture);
        int naiveSamples = int.Parse(options.Get("naive-samples", "10"), CultureInfo.InvariantCulture);
        int idealRows = int.Parse(options.Get("ideal-rows", device.type == DeviceType.CUDA ? "25000" : "4096"), CultureInfo.InvariantCulture);
        var modes = options.Get("modes", "retain").Split(',');
        if (options.Extra.TryGetValue("threads", out var threads)) torch.set_num_threads(int.Parse(threads, CultureInfo.InvariantCulture));
        int? maxRows = options.Extra.TryGetValue("max-rows", out var mr) ? int.Parse(mr, CultureInfo.InvariantCulture) : null;
        var outputMode = Enum.Parse<GradientOutputMode>(options.Get("output-mode", "Auto"), ignoreCase: true);

        torch.manual_seed(0);
        var net = new ShapGen.Samples.TwoInput.TwoInputMnist();   // DESIGN §1's model, shared with the main sample
        net.to(device).eval();
        var bg = rand(new long[] { bgRows, 1, 28, 28 }, device: device);
        var model = ExplainableModel.Create(net);
        var sw = Stopwatch.StartNew();
        using var explainer = new GradientExplainer(model, new[] { bg, bg });
        Measure.Sync(device);
        double constructSeconds = sw.Elapsed.TotalSeconds;

        foreach (int n in sizes)
        {
            var x = rand(new long[] { n, 1, 28, 28 }, device: device);
            bool large = n >= 500;   // minutes per run: one timed run each, no warm-up
            int repeats = large ? 1 : options.Repeats;
            int timed = Math.Min(n, naiveSamples);
            var xNaive = x.narrow(0, 0, timed);
            var explainOptions = new GradientExplainOptions { NSamples = nsamples, Seed = 1, MaxBatchRows = maxRows, OutputMode = outputMode };
            var phases = new List<Phase>
            {
                new("shapgen", "ShapGen", () =>
                {
                    using var e = explainer.Explain(new[] { x, x }, explainOptions);
                    Measure.Sync(device);
                }, Warm: !large),
                new("loop", "shap-structured loop", () => NaiveW1(net, bg, xNaive, nsamples), Scale: (double)n / timed, Warm: !large),
            };
            foreach (var mode in modes)
                phases.Add(new($"ideal_{mode}", $"ideal batched loop ({mode})", () => IdealW1(net, bg, x, nsamples, mode, idealRows), Warm: !large));

            var fields = new Dictionary<string, object?>
            {
                ["workload"] = "W1", ["case"] = $"n={n}",
                ["title"] = string.Create(CultureInfo.InvariantCulture, $"W1 two-input MNIST, bg {bgRows:N0}, nsamples {nsamples}, {Outputs} outputs, N = {n:N0}"),
                ["n"] = n, ["bg"] = bgRows, ["nsamples"] = nsamples, ["outputs"] = Outputs,
                ["loop_samples_timed"] = timed, ["ideal_rows_per_batch"] = idealRows,
                ["explainer_construct_s"] = Math.Round(constructSeconds, 3),
            };
            reporter.RunCase(fields, phases, repeats, device);
            x.Dispose();
        }
        bg.Dispose();
    }

    /// <summary>
    /// (b) The ideal: the explainer's number of model evaluations as large batched forward and backward passes,
    /// written directly against TorchSharp (mirrors <c>ideal_w1</c>: both inputs interpolate the same tensors).
    /// </summary>
    internal static void IdealW1(nn.Module<Tensor, Tensor, Tensor> model, Tensor bg, Tensor x, int samples, string mode, int chunkRows)
    {
        var device = x.device;
        long n = x.shape[0], b = bg.shape[0];
        long[] shape = x.shape.Skip(1).ToArray();
        using var gen = new Generator(123, CPU);
        using var outer = NewDisposeScope();
        var phi = Enumerable.Range(0, 2).Select(_ => empty(new long[] { Outputs, n }.Concat(shape).ToArray(), device: device)).ToArray();
        var variance = Enumerable.Range(0, 2).Select(_ => empty(new long[] { Outputs, n }.Concat(shape).ToArray(), device: device)).ToArray();
        long per = mode == "retain" ? samples : (long)samples * Outputs;
        long step = Math.Max(1, chunkRows / per);
        for (long n0 = 0; n0 < n; n0 += step)
        {
            using var scope = NewDisposeScope();
            long m = Math.Min(step, n - n0);
            var rind = randint(0, b, new[] { m, samples }, generator: gen).to(device);
            var t = rand(new long[] { m, samples, 1, 1, 1 }, generator: gen).to(device);
            var xi = x.narrow(0, n0, m).unsqueeze(1);
            var bgRows = bg.index_select(0, rind.flatten()).view(new long[] { m, samples }.Concat(shape).ToArray());
            var inp = (t * xi + (1 - t) * bgRows).reshape(new long[] { m * samples }.Concat(shape).ToArray());
            var d = xi - bgRows;
            using var grad = enable_grad();
            if (mode == "retain")
            {
                var i1 = inp.clone().requires_grad_();
                var i2 = inp.clone().requires_grad_();
                var y = model.call(i1, i2);
                for (int c = 0; c < Outputs; c++)
                {
                    var gs = autograd.grad(new[] { y.select(1, c).sum() }, new[] { i1, i2 }, retain_graph: c < Outputs - 1);
                    for (int a = 0; a < 2; a++)
                    {
                        var s = gs[a].view(new long[] { m, samples }.Concat(shape).ToArray()) * d;
                        phi[a][c].narrow(0, n0, m).copy_(s.mean(new long[] { 1 }));
                        variance[a][c].narrow(0, n0, m).copy_(s.var(1, unbiased: false) / Math.Sqrt(samples));
                    }
                }
            }
            else
            {
                var rep = new long[] { Outputs }.Concat(Enumerable.Repeat(1L, shape.Length)).ToArray();
                var i1 = inp.repeat(rep).requires_grad_();
                var i2 = inp.repeat(rep).requires_grad_();
                var y = model.call(i1, i2).view(Outputs, m * samples, Outputs);
                var sel = y.diagonal(0, 0, 2);
                var gs = autograd.grad(new[] { sel.sum() }, new[] { i1, i2 });
                for (int a = 0; a < 2; a++)
                {
                    var s = gs[a].view(new long[] { Outputs, m, samples }.Concat(shape).ToArray()) * d.unsqueeze(0);
                    phi[a].narrow(1, n0, m).copy_(s.mean(new long[] { 2 }));
                    variance[a].narrow(1, n0, m).copy_(s.var(2, unbiased: false) / Math.Sqrt(samples));
                }
            }
        }
        foreach (var p in phi) p.cpu().Dispose();
    }

    /// <summary>
    /// (a) A naive loop with shap's structure: for each output, for each explained sample, draw nsamples
    /// interpolations, then forward and backward in batches of 50 with one backward for that output.
    /// </summary>
    internal static void NaiveW1(nn.Module<Tensor, Tensor, Tensor> model, Tensor bg, Tensor x, int samples)
    {
        const int batchSize = 50;
        var device = x.device;
        long n = x.shape[0], b = bg.shape[0];
        long[] shape = x.shape.Skip(1).ToArray();
        var random = new Random(123);
        using var outer = NewDisposeScope();
        for (int c = 0; c < Outputs; c++)
        {
            random = new Random(123); // shap reseeds per output so every output sees the same draws
            for (long j = 0; j < n; j++)
            {
                using var scope = NewDisposeScope();
                var rind = new long[samples];
                var t = new float[samples];
                for (int k = 0; k < samples; k++) { rind[k] = random.NextInt64(b); t[k] = (float)random.NextDouble(); }
                var xi = x[j].unsqueeze(0);
                var rows = bg.index_select(0, tensor(rind, device: device));
                var tt = tensor(t, device: device).view(samples, 1, 1, 1);
                var input = tt * xi + (1 - tt) * rows;
                var delta = xi - rows;
                var grads = new List<Tensor>[] { new(), new() };
                for (int s0 = 0; s0 < samples; s0 += batchSize)
                {
                    int len = Math.Min(batchSize, samples - s0);
                    using var grad = enable_grad();
                    var i1 = input.narrow(0, s0, len).clone().requires_grad_();
                    var i2 = input.narrow(0, s0, len).clone().requires_grad_();
                    var y = model.call(i1, i2);
                    var g = autograd.grad(new[] { y.select(1, c).sum() }, new[] { i1, i2 });
                    grads[0].Add(g[0].cpu());
                    grads[1].Add(g[1].cpu());
                }
                for (int a = 0; a < 2; a++)
                {
                    var products = cat(grads[a], 0) * delta.cpu();
                    var mean = products.mean(new long[] { 0 }).data<float>().ToArray();
                    var variance = products.var(0).data<float>().ToArray();
                    GC.KeepAlive(mean); GC.KeepAlive(variance);
                }
            }
        }
    }
}
