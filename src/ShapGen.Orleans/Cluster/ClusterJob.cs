using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans;
using Orleans.Runtime;

namespace ShapGen.ScaleOut;

/// <summary>Progress of a job: shards and rows written (resumed shards count as written).</summary>
public readonly record struct JobProgress(int ShardsDone, int ShardCount, long RowsDone, long RowCount);

/// <summary>What a finished job did.</summary>
/// <param name="MergedPath">The merged .npz (ExplanationExport's layout).</param>
/// <param name="ShardCount">Shards in the plan.</param>
/// <param name="Resumed">Shards found written and verified in the folder, not recomputed.</param>
/// <param name="ReRuns">Shard runs repeated because their worker died or their file failed verification.</param>
/// <param name="Outcomes">One per shard computed in this run, in completion order.</param>
/// <param name="Seconds">The run, from planning to the merged file.</param>
/// <param name="MergeSeconds">The merge alone.</param>
public sealed record JobResult(string MergedPath, int ShardCount, int Resumed, int ReRuns, IReadOnlyList<ShardOutcome> Outcomes, double Seconds, double MergeSeconds);

/// <summary>Settings of a coordinator run.</summary>
public sealed class JobRunOptions
{
    /// <summary>Told after each shard.</summary>
    public IProgress<JobProgress>? Progress { get; set; }

    /// <summary>Where the coordinator says what it does: resumed shards, re-runs and why.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>Data sets of your own, to count a <see cref="DataSource.Registered"/> source's rows here.</summary>
    public IReadOnlyDictionary<string, Func<IShardSource>>? Sources { get; set; }

    /// <summary>How long to wait for a first worker (or a live one after all died) before failing.</summary>
    public TimeSpan NoWorkerTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the coordinator checks that a worker holding a shard is alive.</summary>
    public TimeSpan PingEvery { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a worker may leave a ping unanswered before its shard is re-run elsewhere.</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Runs of one shard before the job fails (a shard whose worker keeps dying, or whose file keeps failing verification).</summary>
    public int MaxAttempts { get; set; } = 4;
}

/// <summary>
/// The coordinator: plans a job's shards, hands each to a free worker of the cluster (one shard per worker at a time),
/// re-runs the shard of a worker that died, and merges. Its only state is the output folder, so a coordinator
/// started again on the same folder resumes from the shards written and verified there.
/// </summary>
public static class ClusterJob
{
    /// <summary>Runs <paramref name="job"/> on the cluster <paramref name="client"/> is connected to, writing into <paramref name="outputFolder"/>.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired; every worker's shard is cancelled too.</exception>
    public static async Task<JobResult> RunAsync(IClusterClient client, ExplainJob job, string outputFolder, JobRunOptions? options = null,
                                                 CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(job);
        job.Validate();
        options ??= new JobRunOptions();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var log = options.Logger ?? NullLogger.Instance;
        var store = new ShardStore(outputFolder, job);
        store.Claim();
        long rowCount;
        using (var source = ShardSources.Open(job.Source, options.Sources)) rowCount = source.RowCount;
        var plan = ShardRange.Plan(rowCount, job.ShardSize);

        var pending = new LinkedList<ShardRange>();
        int resumed = 0, reRuns = 0;
        foreach (var range in plan)
        {
            string? problem = store.Problem(range);
            if (problem is null) { resumed++; continue; }
            if (problem != "not written")
            {
                log.LogWarning("Re-running {Shard}: {Problem}", range, problem);
                reRuns++;
            }
            store.Delete(range.Index);
            pending.AddLast(range);
        }
        if (resumed > 0) log.LogInformation("Resumed {Resumed} of {Count} shards already written and verified in {Folder}", resumed, plan.Count, store.Folder);
        int done = resumed;
        long rowsDone = plan.Where(r => !pending.Contains(r)).Sum(r => r.Count);
        options.Progress?.Report(new JobProgress(done, plan.Count, rowsDone, rowCount));

        var directory = client.GetGrain<IWorkerDirectoryGrain>(0);
        var running = new List<Assignment>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        var lost = new HashSet<string>(StringComparer.Ordinal);
        var attempts = new Dictionary<int, int>();
        var outcomes = new List<ShardOutcome>();
        var lastWorkerSeen = DateTime.UtcNow;
        void Lose(Assignment a, Exception error)
        {
            running.Remove(a);
            lost.Add(a.Worker);
            reRuns++;
            log.LogWarning("Re-running {Shard}: worker {Worker} was lost ({Error})", a.Range, a.Worker, error.Message);
            pending.AddFirst(a.Range);
        }
        try
        {
            while (pending.Count > 0 || running.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (pending.Count > 0)
                {
                    var busy = running.Select(r => r.Worker).ToHashSet(StringComparer.Ordinal);
                    try { known.UnionWith(await directory.Workers().WaitAsync(options.PingTimeout, cancellationToken)); }
                    catch (Exception e) when (e is TimeoutException or OrleansException)
                    {
                        // The directory's silo may have died: it comes back elsewhere; until then the workers already known serve.
                        log.LogDebug("The worker directory did not answer ({Error}); using the {Count} workers known", e.Message, known.Count);
                    }
                    var free = known.Where(w => !lost.Contains(w) && !busy.Contains(w)).Order(StringComparer.Ordinal).ToArray();
                    if (free.Length > 0 || running.Count > 0) lastWorkerSeen = DateTime.UtcNow;
                    else if (DateTime.UtcNow - lastWorkerSeen > options.NoWorkerTimeout)
                        throw new TimeoutException($"No ShapGen worker has been available for {options.NoWorkerTimeout.TotalSeconds:F0} s; {pending.Count} shard(s) wait. Start workers (silos with AddShapGenWorkers) in this cluster.");
                    foreach (var worker in free)
                    {
                        if (pending.Count == 0) break;
                        var range = pending.First!.Value;
                        pending.RemoveFirst();
                        int attempt = attempts[range.Index] = attempts.GetValueOrDefault(range.Index) + 1;
                        if (attempt > options.MaxAttempts)
                            throw new InvalidOperationException($"{range} failed {options.MaxAttempts} times; the job stops (see the log for each failure).");
                        log.LogDebug("Sending {Shard} to worker {Worker}", range, worker);
                        var grain = client.GetGrain<IShardWorkerGrain>(worker);
                        running.Add(new Assignment(worker, range, grain, grain.Run(job, range, store.Folder, cancellationToken)));
                    }
                }
                var wait = Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                await Task.WhenAny(running.Select(r => r.Run).Append(wait));
                foreach (var a in running.ToArray())
                {
                    if (!a.Run.IsCompleted)
                    {
                        // A call to a silo that died may never be answered (it waits for the long shard timeout):
                        // the worker must keep answering pings, which it does even while it computes.
                        if (a.CheckLiveness(options.PingEvery, options.PingTimeout) is { } dead) Lose(a, dead);
                        continue;
                    }
                    running.Remove(a);
                    if (a.Run.IsCompletedSuccessfully)
                    {
                        if (store.Problem(a.Range) is { } problem)
                        {
                            log.LogWarning("Re-running {Shard}: worker {Worker} reported it written but {Problem}", a.Range, a.Worker, problem);
                            reRuns++;
                            pending.AddFirst(a.Range);
                            continue;
                        }
                        outcomes.Add(a.Run.Result);
                        done++;
                        rowsDone += a.Range.Count;
                        options.Progress?.Report(new JobProgress(done, plan.Count, rowsDone, rowCount));
                        continue;
                    }
                    var error = a.Run.Exception?.GetBaseException() ?? new OperationCanceledException();
                    if (cancellationToken.IsCancellationRequested) continue;
                    if (!IsWorkerLoss(error))
                        throw new InvalidOperationException($"Worker {a.Worker} failed on {a.Range}: {error.Message}", error);
                    running.Add(a);
                    Lose(a, error);
                }
            }
        }
        finally
        {
            // Cancelled or failed: wait for the shards still out (their workers see the token), so none writes after we return.
            if (running.Count > 0)
                try { await Task.WhenAll(running.Select(r => r.Run)).WaitAsync(TimeSpan.FromSeconds(30)); }
                catch (Exception) { /* their outcome no longer matters: the job has already failed or been cancelled */ }
        }
        cancellationToken.ThrowIfCancellationRequested();
        double mergeStart = clock.Elapsed.TotalSeconds;
        string merged = store.Merge(plan);
        double mergeSeconds = clock.Elapsed.TotalSeconds - mergeStart;
        log.LogInformation("Merged {Count} shards into {Path}", plan.Count, merged);
        return new JobResult(merged, plan.Count, resumed, reRuns, outcomes, clock.Elapsed.TotalSeconds, mergeSeconds);
    }

    /// <summary>Waits until the cluster's directory lists at least <paramref name="count"/> workers; returns them.</summary>
    /// <exception cref="TimeoutException">Fewer joined within <paramref name="timeout"/>.</exception>
    public static async Task<string[]> WaitForWorkersAsync(IClusterClient client, int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var directory = client.GetGrain<IWorkerDirectoryGrain>(0);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            string[] workers;
            try { workers = await directory.Workers().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken); }
            catch (Exception e) when (e is TimeoutException or OrleansException) { workers = Array.Empty<string>(); }
            if (workers.Length >= count) return workers;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{workers.Length} of {count} ShapGen workers joined within {timeout.TotalSeconds:F0} s: [{string.Join(", ", workers)}].");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>A shard out at a worker, and the worker's last sign of life.</summary>
    private sealed class Assignment(string worker, ShardRange range, IShardWorkerGrain grain, Task<ShardOutcome> run)
    {
        private DateTime _lastAlive = DateTime.UtcNow;
        private Task? _ping;
        private DateTime _pingSent;

        public string Worker => worker;

        public ShardRange Range => range;

        public Task<ShardOutcome> Run => run;

        /// <summary>Null while the worker answers pings; the reason once one failed or went unanswered too long.</summary>
        public Exception? CheckLiveness(TimeSpan every, TimeSpan timeout)
        {
            var now = DateTime.UtcNow;
            if (_ping is { IsCompletedSuccessfully: true }) (_ping, _lastAlive) = (null, now);
            else if (_ping is { IsFaulted: true }) return _ping.Exception!.GetBaseException();
            else if (_ping is not null && now - _pingSent > timeout)
                return new TimeoutException($"worker {worker} did not answer a ping for {timeout.TotalSeconds:F0} s");
            if (_ping is null && now - _lastAlive > every) (_ping, _pingSent) = (grain.Ping(), now);
            return null;
        }
    }

    /// <summary>Transport failures (the worker's silo died or cannot be reached), as opposed to the shard's own errors.</summary>
    private static bool IsWorkerLoss(Exception e) =>
        e is WorkerGoneException or TimeoutException or OrleansException;
}
