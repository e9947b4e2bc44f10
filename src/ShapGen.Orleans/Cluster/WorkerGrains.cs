using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Concurrency;
using Orleans.Placement;
using Orleans.Runtime;
using static TorchSharp.torch;

namespace ShapGen.ScaleOut;

/// <summary>What a worker reports for a shard it wrote, with where its time went.</summary>
/// <param name="Shard">The shard's number.</param>
/// <param name="Worker">The worker's key.</param>
/// <param name="Sha256">The checksum of the shard's .npz.</param>
/// <param name="Seconds">The whole call on the worker.</param>
/// <param name="LoadSeconds">Opening the data and building the explainer (model load): non-zero on a worker's first shard of a job.</param>
/// <param name="ExplainSeconds">Reading the rows and explaining them.</param>
/// <param name="WriteSeconds">Writing the .npz and its manifest (with the checksum).</param>
[GenerateSerializer, Immutable]
public sealed record ShardOutcome([property: Id(0)] int Shard, [property: Id(1)] string Worker, [property: Id(2)] string Sha256, [property: Id(3)] double Seconds,
                                  [property: Id(4)] double LoadSeconds, [property: Id(5)] double ExplainSeconds, [property: Id(6)] double WriteSeconds);

/// <summary>
/// A worker: one device (a CUDA device or the CPU) of one silo. Its key is <c>{silo address}/{device}</c>; it runs
/// one shard at a time (grain calls to it are not interleaved), keeps the model of the current job loaded between
/// shards, and writes each shard into the job's output folder.
/// </summary>
public interface IShardWorkerGrain : IGrainWithStringKey
{
    /// <summary>Explains <paramref name="range"/> of <paramref name="job"/> and writes its files into <paramref name="outputFolder"/>.</summary>
    Task<ShardOutcome> Run(ExplainJob job, ShardRange range, string outputFolder, CancellationToken cancellationToken);

    /// <summary>Keeps the worker active on its silo (answered even while a shard runs).</summary>
    [AlwaysInterleave]
    Task Ping();
}

/// <summary>Where the coordinator finds the workers: each silo announces its own every few seconds.</summary>
public interface IWorkerDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Records that <paramref name="workers"/> are alive now.</summary>
    Task Announce(string[] workers);

    /// <summary>The workers announced in the last <see cref="WorkerDirectoryGrain.Freshness"/>.</summary>
    Task<string[]> Workers();
}

/// <summary>Thrown when a worker is called on a silo other than the one its key names (its own silo died).</summary>
[GenerateSerializer]
public sealed class WorkerGoneException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WorkerGoneException(string message) : base(message) { }
}

/// <summary>The worker directory (in memory: after its silo dies it is rebuilt from the next announcements).</summary>
internal sealed class WorkerDirectoryGrain : Grain, IWorkerDirectoryGrain
{
    /// <summary>How long an announcement counts.</summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(6);

    private readonly Dictionary<string, DateTime> _seen = new(StringComparer.Ordinal);

    public Task Announce(string[] workers)
    {
        foreach (var w in workers) _seen[w] = DateTime.UtcNow;
        return Task.CompletedTask;
    }

    public Task<string[]> Workers()
    {
        var now = DateTime.UtcNow;
        foreach (var stale in _seen.Where(kv => now - kv.Value > Freshness).Select(kv => kv.Key).ToArray()) _seen.Remove(stale);
        return Task.FromResult(_seen.Keys.Order(StringComparer.Ordinal).ToArray());
    }
}

/// <summary>The worker grain; see <see cref="IShardWorkerGrain"/>.</summary>
[PreferLocalPlacement]
internal sealed class ShardWorkerGrain(ShardExplainerRegistry registry, ILocalSiloDetails silo, ILogger<ShardWorkerGrain> logger) : Grain, IShardWorkerGrain
{
    private string? _loadedJob;
    private IShardExplainer? _explainer;
    private IShardSource? _source;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var (siloName, _) = WorkerKeys.Parse(this.GetPrimaryKeyString());
        if (siloName != silo.SiloAddress.ToParsableString())
            throw new WorkerGoneException($"Worker '{this.GetPrimaryKeyString()}' belongs to silo {siloName}, which is gone; this is {silo.SiloAddress}.");
        return Task.CompletedTask;
    }

    public Task Ping() => Task.CompletedTask;

    public async Task<ShardOutcome> Run(ExplainJob job, ShardRange range, string outputFolder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        string worker = this.GetPrimaryKeyString();
        var store = new ShardStore(outputFolder, job);
        var clock = Stopwatch.StartNew();
        // Model and data stay loaded between shards of one job: loading is the fixed cost of a worker, paid once.
        if (_loadedJob != store.Fingerprint) Load(job, store.Fingerprint, WorkerKeys.Parse(worker).Device);
        double load = clock.Elapsed.TotalSeconds;
        var (manifest, explain, write) = await Task.Run(() =>
        {
            using var scope = NewDisposeScope();
            var start = clock.Elapsed.TotalSeconds;
            using var result = _explainer!.Explain(_source!.ReadRows(range.Start, range.Count), range.Start, job.Seed, cancellationToken);
            var explained = clock.Elapsed.TotalSeconds;
            var written = store.Write(range, result, worker);
            return (written, explained - start, clock.Elapsed.TotalSeconds - explained);
        }, cancellationToken);
        double seconds = clock.Elapsed.TotalSeconds;
        logger.LogInformation("Worker {Worker} wrote {Shard} in {Seconds:F2} s (load {Load:F2} s, explain {Explain:F2} s, write {Write:F3} s)",
                              worker, range, seconds, load, explain, write);
        return new ShardOutcome(range.Index, worker, manifest.Sha256, seconds, load, explain, write);
    }

    private void Load(ExplainJob job, string fingerprint, string device)
    {
        Unload();
        _source = ShardSources.Open(job.Source, registry.Sources);
        _explainer = registry.Create(new ShardExplainerContext(job, WorkerKeys.TorchDevice(device)));
        _loadedJob = fingerprint;
    }

    private void Unload()
    {
        _explainer?.Dispose();
        _source?.Dispose();
        (_explainer, _source, _loadedJob) = (null, null, null);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Unload();
        return Task.CompletedTask;
    }
}

/// <summary>Worker keys: <c>{silo address}/{device}</c>.</summary>
internal static class WorkerKeys
{
    public static string Of(SiloAddress silo, string device) => silo.ToParsableString() + "/" + device;

    /// <summary><c>cuda1</c> → cuda:1, <c>cpu0</c> → cpu.</summary>
    public static Device TorchDevice(string device) =>
        device.StartsWith("cuda", StringComparison.Ordinal) ? new Device("cuda:" + device[4..]) : CPU;

    public static (string Silo, string Device) Parse(string key)
    {
        int slash = key.LastIndexOf('/');
        return slash < 0 ? (key, "cpu") : (key[..slash], key[(slash + 1)..]);
    }
}
