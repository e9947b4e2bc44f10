using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using ShapGen.ScaleOut;
using Xunit;

namespace ShapGen.Orleans.Tests;

/// <summary>Three in-process silos, each with one CPU worker that knows <see cref="TestExplainers"/> and the slow/spinning ones below.</summary>
public sealed class ThreeSilos : IAsyncLifetime
{
    public TestCluster Cluster { get; } = new TestClusterBuilder(3)
        .AddSiloBuilderConfigurator<SiloConfig>()
        .AddClientBuilderConfigurator<ClientConfig>()
        .Build();

    public async Task InitializeAsync()
    {
        await Cluster.DeployAsync();
        var directory = Cluster.Client.GetGrain<IWorkerDirectoryGrain>(0);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await directory.Workers()).Length < 3)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The three silos' workers did not announce themselves within 60 s.");
            await Task.Delay(200);
        }
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class SiloConfig : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.AddShapGenWorkers(r => SlowExplainers.Register(TestExplainers.Register(r)), o => o.AnnounceEvery = TimeSpan.FromMilliseconds(500));
    }

    private sealed class ClientConfig : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) => clientBuilder.UseShapGenCoordinator();
    }
}

/// <summary>
/// "slow-{engine}": the engine after a pause of the job's <c>delayMs</c> (so a test can act mid-job; the result is
/// the engine's); "spin": waits for cancellation and counts the workers that saw it.
/// </summary>
public static class SlowExplainers
{
    public static int Spinning;
    public static int SawCancellation;

    public static ShardExplainerRegistry Register(ShardExplainerRegistry registry)
    {
        foreach (var engine in new[] { "gradient", "deep", "kernel" })
            registry.Add("slow-" + engine, ctx =>
            {
                var inner = TestExplainers.Register(new ShardExplainerRegistry()).Create(ctx with { Job = ctx.Job with { Explainer = engine } });
                int delay = int.Parse(ctx.Job.Options["delayMs"], CultureInfo.InvariantCulture);
                return ShardExplainer.Create((rows, first, seed, ct) =>
                {
                    Task.Delay(delay, ct).GetAwaiter().GetResult();
                    return inner.Explain(rows, first, seed, ct);
                }, inner);
            });
        registry.Add("spin", _ => ShardExplainer.Create((rows, first, seed, ct) =>
        {
            Interlocked.Increment(ref Spinning);
            try
            {
                Task.Delay(Timeout.Infinite, ct).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref SawCancellation);
                throw;
            }
            throw new InvalidOperationException("unreachable");
        }));
        return registry;
    }

    public static ExplainJob Job(string engine, DataSource source, int shardSize, int delayMs) =>
        TestExplainers.Job(engine, source, shardSize) with
        {
            Explainer = "slow-" + engine,
            Options = new Dictionary<string, string> { ["nsamples"] = engine == "kernel" ? "40" : "16", ["delayMs"] = delayMs.ToString(CultureInfo.InvariantCulture) },
        };
}
