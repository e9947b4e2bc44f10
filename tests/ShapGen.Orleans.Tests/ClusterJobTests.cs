using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ShapGen.ScaleOut;
using Xunit;

namespace ShapGen.Orleans.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection : ICollectionFixture<ThreeSilos>
{
    public const string Name = "Three in-process silos (sequential: they share the cluster and the CPU)";
}

/// <summary>Jobs on a TestingHost cluster of three silos, one CPU worker each.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterJobTests(ThreeSilos silos)
{
    private static void AssertSingleProcessFile(string engine, long rows, long seed, string merged)
    {
        using var x = TestExplainers.Rows(rows);
        byte[] expected = TestExplainers.SingleProcessNpz(engine, x, seed);
        Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(merged)), $"{engine}: the merged file is not the single-process file byte for byte");
    }

    [Theory]
    [MemberData(nameof(TestExplainers.Engines), MemberType = typeof(TestExplainers))]
    public async Task Three_silos_write_the_single_process_file_bitwise(string engine)
    {
        using var temp = new TempFolder();
        var job = TestExplainers.Job(engine, TestExplainers.WriteRows(temp["data"], 11), shardSize: 2);
        var seen = new System.Collections.Concurrent.ConcurrentQueue<JobProgress>();
        var result = await ClusterJob.RunAsync(silos.Cluster.Client, job, temp["out"], new JobRunOptions { Progress = new SyncProgress(seen.Enqueue) });

        Assert.Equal(6, result.ShardCount);
        Assert.Equal(6, result.Outcomes.Count);
        Assert.Equal(3, result.Outcomes.Select(o => o.Worker).Distinct().Count());
        Assert.Equal(new JobProgress(6, 6, 11, 11), seen.Last());
        AssertSingleProcessFile(engine, 11, job.Seed, result.MergedPath);
    }

    [Fact]
    public async Task A_restarted_coordinator_resumes_from_the_verified_shards()
    {
        using var temp = new TempFolder();
        var job = SlowExplainers.Job("deep", TestExplainers.WriteRows(temp["data"], 8), shardSize: 1, delayMs: 300);
        using (var stop = new CancellationTokenSource())
        {
            var progress = new SyncProgress(p => { if (p.ShardsDone >= 3) stop.Cancel(); });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                ClusterJob.RunAsync(silos.Cluster.Client, job, temp["out"], new JobRunOptions { Progress = progress }, stop.Token));
        }
        Assert.False(File.Exists(Path.Combine(temp["out"], ShardStore.MergedFileName)));
        int written = Directory.GetFiles(temp["out"], "shard-*.json").Length;
        Assert.InRange(written, 3, 7);

        var log = new ListLogger();
        var result = await ClusterJob.RunAsync(silos.Cluster.Client, job, temp["out"], new JobRunOptions { Logger = log });
        Assert.Equal(written, result.Resumed);
        Assert.Equal(8 - written, result.Outcomes.Count);
        Assert.True(log.Contains($"Resumed {written} of 8 shards"), log.All);
        AssertSingleProcessFile("deep", 8, job.Seed, result.MergedPath);
    }

    [Fact]
    public async Task A_corrupted_shard_is_found_by_its_checksum_and_re_run()
    {
        using var temp = new TempFolder();
        var job = TestExplainers.Job("kernel", TestExplainers.WriteRows(temp["data"], 6), shardSize: 2);
        var first = await ClusterJob.RunAsync(silos.Cluster.Client, job, temp["out"]);
        string shard = Path.Combine(temp["out"], "shard-00001.npz");
        byte[] bytes = File.ReadAllBytes(shard);
        bytes[^30] ^= 0x10;
        File.WriteAllBytes(shard, bytes);

        var log = new ListLogger();
        var again = await ClusterJob.RunAsync(silos.Cluster.Client, job, temp["out"], new JobRunOptions { Logger = log });
        Assert.Equal(2, again.Resumed);
        Assert.Equal(1, again.ReRuns);
        Assert.Equal(1, Assert.Single(again.Outcomes).Shard);
        Assert.True(log.Contains("Re-running shard 1 (rows 2..3)") && log.Contains("fails its checksum"), log.All);
        AssertSingleProcessFile("kernel", 6, job.Seed, again.MergedPath);
    }

    [Fact]
    public async Task Cancelling_the_job_stops_every_worker()
    {
        using var temp = new TempFolder();
        var job = TestExplainers.Job("spin", TestExplainers.WriteRows(temp["data"], 6), shardSize: 1);
        (SlowExplainers.Spinning, SlowExplainers.SawCancellation) = (0, 0);
        using var stop = new CancellationTokenSource();
        var run = ClusterJob.RunAsync(silos.Cluster.Client, job, temp["out"], cancellationToken: stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref SlowExplainers.Spinning) < 3 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(3, Volatile.Read(ref SlowExplainers.Spinning));

        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(40)));
        // The token reaches each grain as a cancellation message: give the three a moment to see it.
        deadline = DateTime.UtcNow.AddSeconds(20);
        while (Volatile.Read(ref SlowExplainers.SawCancellation) < 3 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(3, Volatile.Read(ref SlowExplainers.SawCancellation));
        Assert.Equal(3, Volatile.Read(ref SlowExplainers.Spinning));
    }

    [Fact]
    public async Task An_explainer_no_worker_knows_fails_the_job_naming_the_registered_ones()
    {
        using var temp = new TempFolder();
        var job = TestExplainers.Job("nonesuch", TestExplainers.WriteRows(temp["data"], 2), shardSize: 1);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ClusterJob.RunAsync(silos.Cluster.Client, job, temp["out"]));
        Assert.Contains("'nonesuch'", e.Message);
        Assert.Contains("gradient", e.Message);
    }
}

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, too late for assertions).</summary>
public sealed class SyncProgress(Action<JobProgress> report) : IProgress<JobProgress>
{
    public void Report(JobProgress value) => report(value);
}

/// <summary>A silo killed mid-job: its own cluster, since the kill would change the shared one.</summary>
[Collection(ClusterCollection.Name)]
public sealed class WorkerDeathTests
{
    [Fact]
    public async Task A_killed_silo_s_shard_is_re_run_elsewhere_and_the_result_is_bitwise_equal()
    {
        var silos = new ThreeSilos();
        await silos.InitializeAsync();
        try
        {
            using var temp = new TempFolder();
            var job = SlowExplainers.Job("gradient", TestExplainers.WriteRows(temp["data"], 12), shardSize: 1, delayMs: 600);
            var victim = silos.Cluster.SecondarySilos[0];
            Task? kill = null;
            var progress = new SyncProgress(p => { if (p.ShardsDone >= 2) kill ??= Task.Run(() => silos.Cluster.KillSiloAsync(victim)); });
            var log = new ListLogger();
            var run = ClusterJob.RunAsync(silos.Cluster.Client, job, temp["out"], new JobRunOptions { Progress = progress, Logger = log });
            try { await run.WaitAsync(TimeSpan.FromMinutes(3)); }
            catch (TimeoutException) { Assert.Fail("The job did not end within 3 minutes; the coordinator said:\n" + log.All); }
            var result = await run;
            await kill!;

            Assert.True(result.ReRuns >= 1, log.All);
            Assert.True(log.Contains("Re-running shard") && log.Contains("was lost"), log.All);
            Assert.Equal(12, result.Outcomes.Select(o => o.Shard).Distinct().Count());
            AssertFile(job, result);
        }
        finally
        {
            await silos.DisposeAsync();
        }
    }

    private static void AssertFile(ExplainJob job, JobResult result)
    {
        using var x = TestExplainers.Rows(12);
        byte[] expected = TestExplainers.SingleProcessNpz("gradient", x, job.Seed);
        Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(result.MergedPath)), "the merged file is not the single-process file byte for byte");
    }
}
