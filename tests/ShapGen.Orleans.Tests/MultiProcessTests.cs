using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Xunit;

namespace ShapGen.Orleans.Tests;

/// <summary>A fact that needs a Redis membership store at $SHAPGEN_REDIS (HOST:PORT); .ci/run starts one.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public const string Variable = "SHAPGEN_REDIS";

    public RedisFactAttribute() =>
        Skip = string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable))
            ? $"Needs a Redis membership store: set {Variable}=HOST:PORT (.ci/run starts redis-server on loopback and sets it)."
            : null;
}

/// <summary>
/// Worker and coordinator processes (the OrleansMnist sample's executable) on loopback, with Orleans' Redis
/// membership provider: a worker or the coordinator is killed mid-job, and the job still ends with the file one
/// process writes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class MultiProcessTests
{
    private static readonly string Redis = Environment.GetEnvironmentVariable(RedisFactAttribute.Variable) ?? "";
    private static readonly TimeSpan JobLimit = TimeSpan.FromSeconds(150);

    [RedisFact]
    public async Task A_killed_worker_process_s_shard_is_re_run_and_the_result_is_one_process_s()
    {
        using var temp = new TempFolder();
        string cluster = "test-" + Guid.NewGuid().ToString("N");
        using var a = Worker(cluster, "worker A");
        using var b = Worker(cluster, "worker B");
        using var coordinator = Coordinator(cluster, temp.Path);
        await WaitForShards(temp.Path, 2, coordinator);
        a.Kill();

        int exit = await coordinator.Exit(JobLimit);
        string output = coordinator.Output;
        Assert.True(exit == 0, $"coordinator exit {exit}:\n{output}");
        Assert.Matches(new Regex(@"Re-running shard \d+ \(rows \d+\.\.\d+\): worker \S+ was lost"), output);
        Assert.Contains("Verified: the merged file equals the one-process file byte for byte.", output);
    }

    [RedisFact]
    public async Task A_restarted_coordinator_resumes_and_ends_with_the_one_process_file()
    {
        using var temp = new TempFolder();
        string cluster = "test-" + Guid.NewGuid().ToString("N");
        using var a = Worker(cluster, "worker A");
        using var b = Worker(cluster, "worker B");
        using (var first = Coordinator(cluster, temp.Path))
        {
            await WaitForShards(temp.Path, 3, first);
            first.Kill();
        }
        using var second = Coordinator(cluster, temp.Path);
        int exit = await second.Exit(JobLimit);
        string output = second.Output;
        Assert.True(exit == 0, $"coordinator exit {exit}:\n{output}");
        var resumed = Regex.Match(output, @"Resumed (\d+) of 12 shards");
        Assert.True(resumed.Success, output);
        Assert.InRange(int.Parse(resumed.Groups[1].Value), 3, 12);
        Assert.Contains("Verified: the merged file equals the one-process file byte for byte.", output);
    }

    private static SampleProcess Worker(string cluster, string name) =>
        SampleProcess.Start(name, "--mode", "worker", "--redis", Redis, "--cluster-id", cluster,
                            "--silo-port", FreePort().ToString(), "--gateway-port", FreePort().ToString());

    private static SampleProcess Coordinator(string cluster, string folder) =>
        SampleProcess.Start("coordinator", "--mode", "coordinator", "--redis", Redis, "--cluster-id", cluster, "--quick",
                            "--rows", "24", "--shard-size", "2", "--nsamples", "40", "--verify", "--out", folder,
                            "--expect-workers", "2");

    private static async Task WaitForShards(string folder, int count, SampleProcess coordinator)
    {
        string shards = Path.Combine(folder, "orleans-mnist", "shards");
        var deadline = DateTime.UtcNow + JobLimit;
        while (!(Directory.Exists(shards) && Directory.GetFiles(shards, "shard-*.json").Length >= count))
        {
            if (DateTime.UtcNow > deadline || coordinator.HasExited)
                throw new TimeoutException($"{count} shards were not written in time:\n{coordinator.Output}");
            await Task.Delay(100);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The OrleansMnist sample's executable (built beside this assembly's configuration), its output kept.</summary>
public sealed class SampleProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private SampleProcess(Process process) => _process = process;

    public string Output => string.Join("\n", _lines);

    public bool HasExited => _process.HasExited;

    public static SampleProcess Start(string name, params string[] arguments)
    {
        var info = new ProcessStartInfo(Executable()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment.Remove("SHAPGEN_DATA");
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {name}.");
        var result = new SampleProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) result._lines.Enqueue($"{name}: {e.Data}"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) result._lines.Enqueue($"{name} (stderr): {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    public async Task<int> Exit(TimeSpan limit)
    {
        try { await _process.WaitForExitAsync().WaitAsync(limit); }
        catch (TimeoutException) { throw new TimeoutException($"The process did not end within {limit.TotalSeconds:F0} s:\n{Output}"); }
        return _process.ExitCode;
    }

    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static string Executable()
    {
        // This assembly is in tests/ShapGen.Orleans.Tests/bin/{Configuration}/{framework}/: the sample is built beside it.
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = here.Name, configuration = here.Parent!.Name;
        var root = here;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ShapGen.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("ShapGen.sln not found above " + AppContext.BaseDirectory);
        string exe = Path.Combine(root.FullName, "samples", "OrleansMnist", "bin", configuration, framework, "OrleansMnist");
        return File.Exists(exe) ? exe : throw new FileNotFoundException($"The OrleansMnist sample is not built at '{exe}'; build the solution first.", exe);
    }
}

/// <summary>The sample as a user runs it: a coordinator that starts two worker processes with localhost clustering.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SampleTests
{
    [Fact]
    public async Task The_sample_runs_a_coordinator_and_two_local_workers_and_writes_the_one_process_file_and_a_picture()
    {
        using var temp = new TempFolder();
        using var sample = SampleProcess.Start("sample", "--quick", "--rows", "8", "--shard-size", "2", "--nsamples", "20", "--verify", "--out", temp.Path);
        int exit = await sample.Exit(TimeSpan.FromSeconds(240));
        string output = sample.Output;
        Assert.True(exit == 0, $"exit {exit}:\n{output}");
        Assert.Contains("Verified: the merged file equals the one-process file byte for byte.", output);
        Assert.Matches(new Regex(@"Job: 8 rows in [\d.]+ s = [\d.]+ rows/s with 2 worker\(s\)"), output);
        byte[] png = File.ReadAllBytes(Path.Combine(temp.Path, "orleans-mnist.png"));
        Assert.True(png.Length > 1000 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', "not a PNG");
    }
}
