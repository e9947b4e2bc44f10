// Explains MNIST test rows on an Orleans cluster: a coordinator and worker processes on loopback.
//   dotnet run --project samples/OrleansMnist -c Release [-- --data DIR] [--rows N] [--shard-size N] [--workers N] [--out DIR]
// By default this process is the coordinator and starts --workers (2) worker processes of its own program, with
// localhost clustering. Other modes (--mode):
//   worker        one worker silo (--redis HOST:PORT --cluster-id ID for the Redis membership store, else localhost
//                 clustering: --silo-port/--gateway-port, and --primary-port of the first worker)
//   coordinator   a coordinator that joins workers already running (--redis, or --gateway-ports P1,P2); with
//                 --expect-workers N it waits until N workers have announced themselves before the job starts
// Without --data it draws synthetic digits; with --data DIR holding MNIST IDX files it uses the real test set.
// --verify also explains the rows in one process and checks that the merged file is the same byte for byte.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using ShapGen;
using ShapGen.Samples;
using ShapGen.Samples.OrleansMnist;
using ShapGen.ScaleOut;
using TorchSharp;
using static TorchSharp.torch;

var options = SampleArgs.Parse(args);
string mode = options.String("mode", "run")!;
string clusterId = options.String("cluster-id", "shapgen-mnist")!;
string? redis = options.String("redis");

switch (mode)
{
    case "worker":
        await RunWorker();
        return 0;
    case "coordinator":
        return await RunCoordinator(gatewayPorts: options.String("gateway-ports")?.Split(',').Select(int.Parse).ToArray(), workers: null,
                                    expectWorkers: options.Int("expect-workers", 0));
    case "run":
    {
        int count = options.Int("workers", 2);
        int primary = FreePort();
        var ports = Enumerable.Range(0, count).Select(_ => (Silo: FreePort(), Gateway: FreePort())).ToArray();
        ports[0].Silo = primary;
        var workers = new List<Process>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var clustering = redis is null
                    ? new[] { "--silo-port", $"{ports[i].Silo}", "--gateway-port", $"{ports[i].Gateway}", "--primary-port", $"{primary}" }
                    : new[] { "--redis", redis, "--silo-port", $"{ports[i].Silo}", "--gateway-port", $"{ports[i].Gateway}" };
                workers.Add(StartSelf(new[] { "--mode", "worker", "--cluster-id", clusterId, "--out", options.OutputDirectory }.Concat(clustering), $"worker {i}"));
            }
            return await RunCoordinator(ports.Select(p => p.Gateway).ToArray(), workers, workers.Count);
        }
        finally
        {
            foreach (var w in workers.Where(w => !w.HasExited)) w.Kill(entireProcessTree: true);
        }
    }
    default:
        Console.Error.WriteLine($"--mode '{mode}' is not one of run, worker, coordinator.");
        return 2;
}

async Task RunWorker()
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("ShapGen", LogLevel.Information);
    builder.UseOrleans(silo =>
    {
        int siloPort = options.Int("silo-port", 11111), gatewayPort = options.Int("gateway-port", 30000);
        if (redis is null)
            silo.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, options.Int("primary-port", siloPort)), clusterId: clusterId, serviceId: clusterId);
        else
        {
            silo.UseRedisClustering(redis);
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId));
            silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort);
        }
        silo.AddShapGenWorkers(registry => MnistJob.Register(registry));
    });
    using var host = builder.Build();
    await host.RunAsync();
}

async Task<int> RunCoordinator(int[]? gatewayPorts, List<Process>? workers, int expectWorkers)
{
    var clock = Stopwatch.StartNew();
    int rows = options.Int("rows", 200), shardSize = options.Int("shard-size", 25), nsamples = options.Int("nsamples", 200);
    string folder = Path.GetFullPath(options.Output("orleans-mnist"));
    Directory.CreateDirectory(folder);
    var job = Prepare(folder, rows, shardSize, nsamples);

    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.UseOrleansClient(client =>
    {
        if (redis is null) client.UseLocalhostClustering(gatewayPorts ?? new[] { 30000 }, serviceId: clusterId, clusterId: clusterId);
        else
        {
            client.UseRedisClustering(redis);
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId));
        }
        client.UseShapGenCoordinator();
    });
    using var host = builder.Build();
    await host.StartAsync();
    var client = host.Services.GetRequiredService<IClusterClient>();
    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
    // Started workers: wait for all of them before the job, so that its time is the cluster's steady throughput.
    // Started or expected workers (--expect-workers N): wait for all of them before the job, so that its time is the
    // cluster's steady throughput and a worker lost early leaves the others known to the job.
    if (expectWorkers > 0) await ClusterJob.WaitForWorkersAsync(client, expectWorkers, TimeSpan.FromMinutes(2), stop.Token);
    var result = await ClusterJob.RunAsync(client, job, Path.Combine(folder, "shards"), new JobRunOptions
    {
        Logger = new ConsoleLogger(),
        Progress = new Progress<JobProgress>(p => Console.WriteLine($"  {p.ShardsDone}/{p.ShardCount} shards, {p.RowsDone}/{p.RowCount} rows")),
    }, stop.Token);
    Console.WriteLine($"Merged {result.ShardCount} shards ({result.Resumed} resumed, {result.ReRuns} re-run) into {result.MergedPath} " +
                      $"in {clock.Elapsed.TotalSeconds:F1} s; workers used: {string.Join(", ", result.Outcomes.Select(o => o.Worker).Distinct())}");
    if (result.Outcomes.Count > 0)
    {
        var loads = result.Outcomes.Where(o => o.LoadSeconds > 0.001).Select(o => o.LoadSeconds).DefaultIfEmpty(0);
        long computed = result.Outcomes.Count * (long)shardSize;
        int workerCount = result.Outcomes.Select(o => o.Worker).Distinct().Count();
        Console.WriteLine(FormattableString.Invariant(
            $"Job: {Math.Min(computed, rows)} rows in {result.Seconds:F2} s = {Math.Min(computed, rows) / result.Seconds:F2} rows/s with {workerCount} worker(s); ") +
            FormattableString.Invariant(
            $"per shard: explain {result.Outcomes.Average(o => o.ExplainSeconds):F3} s, write {result.Outcomes.Average(o => o.WriteSeconds):F4} s, ") +
            FormattableString.Invariant(
            $"idle (coordinator, messages, waiting) {(result.Seconds * workerCount - result.Outcomes.Sum(o => o.Seconds)) / result.Outcomes.Count:F3} s; ") +
            FormattableString.Invariant($"model load {loads.Average():F3} s once per worker; merge {result.MergeSeconds:F4} s"));
    }
    await host.StopAsync();

    using (var merged = ExplanationExport.LoadNpz(result.MergedPath))
    using (var images = Npz.Load(job.Source.Location, "x"))
    {
        string png = options.Output("orleans-mnist.png");
        int show = (int)Math.Min(4, images.shape[0]);
        ImagePlot.Save(png, merged.ForInput(0).Select(t => t.narrow(0, 0, show)).ToArray(), images.narrow(0, 0, show),
                       new ImagePlotOptions { ColumnLabels = MnistJob.Digits });
        Console.WriteLine($"Picture: {png}");
    }
    if (options.String("verify") is null) return 0;
    string single = Path.Combine(folder, "one-process.npz");
    MnistJob.ExplainInOneProcess(job, single);
    bool same = File.ReadAllBytes(single).AsSpan().SequenceEqual(File.ReadAllBytes(result.MergedPath));
    if (same)
    {
        Console.WriteLine("Verified: the merged file equals the one-process file byte for byte.");
        return 0;
    }
    using var a = Npz.Load(single, "values_0");
    using var b = Npz.Load(result.MergedPath, "values_0");
    using var diff = (a.to(float64) - b.to(float64)).abs().max();
    Console.WriteLine($"MISMATCH: the merged file differs from the one-process file (attributions by up to {diff.item<double>():G3}).");
    return 1;
}

// The rows to explain, the trained weights and the background, as files every worker can read; training is seeded
// and skipped when the files are there (a restarted coordinator reuses them, so the job stays the same).
// float64 by default: on the CPU, float32 convolutions and matrix products round differently with the batch's
// shape, so only float64 gives a merged file equal to one process's byte for byte (--float32 shows the difference).
ExplainJob Prepare(string folder, int rows, int shardSize, int nsamples)
{
    var dtype = options.String("float32") is null ? float64 : float32;
    string rowsPath = Path.Combine(folder, "rows.npz"), weights = Path.Combine(folder, "mnist-net.dat"), background = Path.Combine(folder, "background.npz");
    if (!File.Exists(rowsPath) || !File.Exists(weights) || !File.Exists(background))
    {
        torch.manual_seed(0);
        var (xTrain, yTrain, xTest, _) = SampleData.Load(options, "MNIST", options.Quick ? 300 : 2000,
            new[] { "t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "train-images-idx3-ubyte" },
            new[] { "t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte" },
            (count, seed) => SyntheticImages.Digits(count, seed), "synthetic digits");
        var model = new MnistNet();
        Trainer.Fit(model, x => model.call(x), xTrain, yTrain, 1, outputsProbabilities: true);
        model.save(weights);
        long n = rows <= 0 ? xTest.shape[0] : Math.Min(rows, xTest.shape[0]);
        Npz.Save(rowsPath, new[] { new KeyValuePair<string, Tensor>("x", xTest.narrow(0, 0, n).to(dtype)) });
        Npz.Save(background, new[] { new KeyValuePair<string, Tensor>("x", xTrain.narrow(0, 0, 50).to(dtype)) });
    }
    return MnistJob.Create(rowsPath, weights, background, shardSize, nsamples, seed: 2026, dtype);
}

Process StartSelf(IEnumerable<string> arguments, string name)
{
    string exe = Environment.ProcessPath!;
    var info = new ProcessStartInfo(exe) { UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(exe) == "dotnet") info.ArgumentList.Add(typeof(MnistNet).Assembly.Location);
    foreach (var a in arguments) info.ArgumentList.Add(a);
    var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {name}.");
    Console.WriteLine($"Started {name} (pid {process.Id})");
    return process;
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

/// <summary>Prints the coordinator's messages (resumed shards, re-runs and why) on the console.</summary>
internal sealed class ConsoleLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) Console.WriteLine($"[{logLevel}] {formatter(state, exception)}");
    }
}
