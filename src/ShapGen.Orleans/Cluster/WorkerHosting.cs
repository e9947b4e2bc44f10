using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using TorchSharp;

namespace ShapGen.ScaleOut;

/// <summary>How a silo runs its workers.</summary>
public sealed class ShapGenWorkerOptions
{
    /// <summary>Workers when the machine has no CUDA device (default 1: one worker uses every core through libtorch's threads).</summary>
    public int CpuWorkers { get; set; } = 1;

    /// <summary>Use CUDA devices when TorchSharp sees any (one worker per device); false forces CPU workers.</summary>
    public bool UseCuda { get; set; } = true;

    /// <summary>How often the silo announces its workers to the directory.</summary>
    public TimeSpan AnnounceEvery { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Registers ShapGen's workers in a silo and sets the long call timeout shards need.</summary>
public static class ShapGenSiloBuilderExtensions
{
    /// <summary>Longest a shard may take (the grain-call response timeout of the silo and the client).</summary>
    public static readonly TimeSpan ShardTimeout = TimeSpan.FromHours(6);

    /// <summary>
    /// Makes this silo a ShapGen worker host: <paramref name="register"/> adds the explainer factories (and data
    /// sets) this process knows by name; one worker per CUDA device, else <see cref="ShapGenWorkerOptions.CpuWorkers"/>.
    /// </summary>
    public static ISiloBuilder AddShapGenWorkers(this ISiloBuilder builder, Action<ShardExplainerRegistry> register, Action<ShapGenWorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(register);
        var registry = new ShardExplainerRegistry();
        register(registry);
        var options = new ShapGenWorkerOptions();
        configure?.Invoke(options);
        if (options.CpuWorkers < 1) throw new ArgumentOutOfRangeException(nameof(configure), options.CpuWorkers, "CpuWorkers must be at least 1.");
        builder.Services.AddSingleton(registry);
        builder.Services.AddSingleton(options);
        builder.Services.AddHostedService<WorkerAnnouncer>();
        builder.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = ShardTimeout);
        return builder;
    }

    /// <summary>Sets the client's grain-call timeout to <see cref="ShardTimeout"/> (a coordinator waits for whole shards).</summary>
    public static IClientBuilder UseShapGenCoordinator(this IClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = ShardTimeout);
        return builder;
    }

    /// <summary>The devices this process's workers own: <c>cuda0</c> … per CUDA device, or <c>cpu0</c> … .</summary>
    internal static string[] Devices(ShapGenWorkerOptions options) =>
        options.UseCuda && torch.cuda.is_available()
            ? Enumerable.Range(0, torch.cuda.device_count()).Select(i => $"cuda{i}").ToArray()
            : Enumerable.Range(0, options.CpuWorkers).Select(i => $"cpu{i}").ToArray();
}

/// <summary>Activates this silo's workers on it and announces them to the directory until the silo stops.</summary>
internal sealed class WorkerAnnouncer(IGrainFactory grains, ILocalSiloDetails silo, ShapGenWorkerOptions options, ILogger<WorkerAnnouncer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var keys = ShapGenSiloBuilderExtensions.Devices(options).Select(d => WorkerKeys.Of(silo.SiloAddress, d)).ToArray();
        logger.LogInformation("ShapGen workers on this silo: {Workers}", string.Join(", ", keys));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Called from this silo, so [PreferLocalPlacement] activates each worker here.
                await Task.WhenAll(keys.Select(k => grains.GetGrain<IShardWorkerGrain>(k).Ping()));
                await grains.GetGrain<IWorkerDirectoryGrain>(0).Announce(keys);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Announcing the workers failed; retrying");
            }
            try { await Task.Delay(options.AnnounceEvery, stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
    }
}
