using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>A benchmark: runs its cases, each as interleaved phases, and reports one JSON line per case.</summary>
public interface IBenchmark
{
    /// <summary>Short name used on the command line (e.g. W1).</summary>
    string Name { get; }

    /// <summary>One line saying what is measured.</summary>
    string Description { get; }

    /// <summary>Runs every case and reports it through <paramref name="reporter"/>.</summary>
    void Run(BenchmarkOptions options, Reporter reporter);
}

/// <summary>Command-line options common to all benchmarks.</summary>
public sealed class BenchmarkOptions
{
    /// <summary>Device the models run on (--device cpu|cuda).</summary>
    public Device Device { get; private set; } = CPU;

    /// <summary>Small settings for a smoke run (--quick).</summary>
    public bool Quick { get; private set; }

    /// <summary>Timed runs per phase after the warm-up (--repeats, at least 1; default 5).</summary>
    public int Repeats { get; private set; } = 5;

    /// <summary>Benchmark-specific options (--key value, or --flag for "true").</summary>
    public Dictionary<string, string> Extra { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Parses the arguments after the benchmark name.</summary>
    public static BenchmarkOptions Parse(string[] args)
    {
        var o = new BenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? next = i + 1 < args.Length ? args[i + 1] : null;
            switch (a)
            {
                case "--device":
                    o.Device = next == "cuda" ? ShapGen.Devices.RequireCuda() : CPU; i++; break;
                case "--quick": o.Quick = true; break;
                case "--repeats":
                    o.Repeats = next is not null && int.TryParse(next, NumberStyles.None, CultureInfo.InvariantCulture, out int r) && r >= 1
                        ? r : throw new ArgumentException($"--repeats expects a positive integer, got '{next}'.");
                    i++; break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal) && next is not null && !next.StartsWith("--", StringComparison.Ordinal))
                    { o.Extra[a[2..]] = next; i++; }
                    else if (a.StartsWith("--", StringComparison.Ordinal)) o.Extra[a[2..]] = "true";
                    break;
            }
        }
        return o;
    }

    /// <summary>The value of --<paramref name="key"/>, or <paramref name="fallback"/>.</summary>
    public string Get(string key, string fallback) => Extra.TryGetValue(key, out var v) ? v : fallback;

    /// <summary>The comma-separated integers of --<paramref name="key"/>, or of <paramref name="fallback"/>.</summary>
    public int[] GetInts(string key, string fallback) =>
        Get(key, fallback).Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The integer of --<paramref name="key"/>, or <paramref name="fallback"/>.</summary>
    public int GetInt(string key, int fallback) =>
        Extra.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}

/// <summary>One timed part of a case (ShapGen, or a baseline).</summary>
/// <param name="Name">Key in the JSON line's "phases" object (e.g. "shapgen", "loop").</param>
/// <param name="Label">What the phase is, for tables (e.g. "shap-structured loop").</param>
/// <param name="Action">One run of the phase.</param>
/// <param name="Scale">Factor applied to every time: a loop timed on m of n samples has n/m.</param>
/// <param name="Warm">Run once untimed before the timed runs.</param>
public sealed record Phase(string Name, string Label, Action Action, double Scale = 1, bool Warm = true);

/// <summary>Median and spread of one phase's timed runs, in seconds (already multiplied by the phase's scale).</summary>
public sealed record PhaseStats(string Name, string Label, int Runs, double Scale,
    double WallMedian, double WallMin, double WallMax, double CpuMedian, double CpuMin, double CpuMax);

/// <summary>The 1-minute load average and core count of the machine, for flagging runs on a busy machine.</summary>
public static class MachineLoad
{
    /// <summary>Logical cores the process sees.</summary>
    public static int Cores => Environment.ProcessorCount;

    /// <summary>The 1-minute load average from /proc/loadavg, or null where the file does not exist.</summary>
    public static double? OneMinute()
    {
        try
        {
            string text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// CPU seconds all processes have spent busy (user, nice, system, irq, softirq, steal) since boot, summed over the
    /// cores, from /proc/stat; null where the file does not exist.
    /// </summary>
    public static double? BusySeconds()
    {
        try
        {
            string? line = File.ReadLines("/proc/stat").FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            if (line is null) return null;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            const double TicksPerSecond = 100;   // USER_HZ, 100 on every Linux platform .NET runs on
            return (f[0] + f[1] + f[2] + f[5] + f[6] + (f.Length > 7 ? f[7] : 0)) / TicksPerSecond;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The CPU model named in /proc/cpuinfo ("model name"), or the OS description where there is none.</summary>
    public static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and > 0)
                    return line[(colon + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.OSDescription;
    }
}

/// <summary>Runs phases interleaved and reports cases as JSON lines.</summary>
public static class Measure
{
    /// <summary>
    /// Runs every phase once untimed (where <see cref="Phase.Warm"/>), then <paramref name="repeats"/> rounds of
    /// A B C …, A B C …, so that a change in the machine's load during the case hits every phase alike. Wall time
    /// and process CPU time per run; CUDA is synchronised around each run.
    /// </summary>
    public static IReadOnlyList<PhaseStats> Interleaved(IReadOnlyList<Phase> phases, int repeats, Device device)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "repeats must be at least 1.");
        foreach (var phase in phases.Where(p => p.Warm))
        {
            phase.Action();
            Sync(device);
        }
        var walls = phases.Select(_ => new List<double>()).ToArray();
        var cpus = phases.Select(_ => new List<double>()).ToArray();
        using var process = Process.GetCurrentProcess();
        for (int r = 0; r < repeats; r++)
        {
            for (int i = 0; i < phases.Count; i++)
            {
                Sync(device);
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                phases[i].Action();
                Sync(device);
                walls[i].Add(watch.Elapsed.TotalSeconds);
                process.Refresh();
                cpus[i].Add((process.TotalProcessorTime - cpu0).TotalSeconds);
            }
        }
        return phases.Select((p, i) =>
        {
            walls[i].Sort();
            cpus[i].Sort();
            return new PhaseStats(p.Name, p.Label, repeats, p.Scale,
                Median(walls[i]) * p.Scale, walls[i][0] * p.Scale, walls[i][^1] * p.Scale,
                Median(cpus[i]) * p.Scale, cpus[i][0] * p.Scale, cpus[i][^1] * p.Scale);
        }).ToList();
    }

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>Waits for queued CUDA work, so that a timer measures it.</summary>
    public static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
    }
}

/// <summary>
/// Writes one JSON object per case on its own line and keeps them for the README table. Each case records the core
/// count, the 1-minute load average before and after its phases and the cores other processes used meanwhile, and is
/// flagged <c>"loaded": true</c> when the machine was busy (its figures are then not representative).
/// </summary>
public sealed class Reporter
{
    private readonly List<JsonObject> cases = new();

    /// <summary>The cases reported so far.</summary>
    public IReadOnlyList<JsonObject> Cases => cases;

    /// <summary>
    /// Runs <paramref name="phases"/> interleaved and reports them with <paramref name="fields"/> (the case's
    /// settings; "workload" and "title" are expected). The first phase is the subject (ShapGen), the others its
    /// baselines. <paramref name="checks"/>, evaluated after the timed runs, adds fields such as the largest
    /// difference between the phases' results.
    /// </summary>
    public void RunCase(IReadOnlyDictionary<string, object?> fields, IReadOnlyList<Phase> phases,
        int repeats, Device device, Func<IReadOnlyDictionary<string, object?>>? checks = null)
    {
        var start = Snapshot.Take();
        var stats = Measure.Interleaved(phases, repeats, device);
        var end = Snapshot.Take();
        var line = new Dictionary<string, object?>(fields);
        if (checks is not null)
            foreach (var (k, v) in checks()) line[k] = v;
        line["device"] = device.ToString();
        line["threads"] = torch.get_num_threads();
        line["phases"] = stats.ToDictionary(s => s.Name, s => (object?)new Dictionary<string, object?>
        {
            ["label"] = s.Label, ["runs"] = s.Runs, ["scale"] = Math.Round(s.Scale, 4),
            ["wall_median_s"] = Round(s.WallMedian), ["wall_min_s"] = Round(s.WallMin), ["wall_max_s"] = Round(s.WallMax),
            ["cpu_median_s"] = Round(s.CpuMedian), ["cpu_min_s"] = Round(s.CpuMin), ["cpu_max_s"] = Round(s.CpuMax),
        });
        Write(line, start, end);
    }

    /// <summary>Reports a line that is not a timed case (e.g. a check's result), with the load stamp.</summary>
    public void Report(IReadOnlyDictionary<string, object?> fields)
    {
        var now = Snapshot.Take();
        Write(new Dictionary<string, object?>(fields), now, now);
    }

    /// <summary>
    /// Stamps the machine's state over a case. The case is flagged loaded when the 1-minute load average, less this
    /// process's own average use of cores during the case (the benchmark itself keeps its threads busy), exceeded the
    /// core count, or when other processes used more than a quarter of the cores during the case (from /proc/stat).
    /// </summary>
    private void Write(Dictionary<string, object?> line, Snapshot start, Snapshot end)
    {
        int cores = MachineLoad.Cores;
        double wall = (end.Wall - start.Wall).TotalSeconds;
        double? own = wall > 0 ? (end.OwnCpu - start.OwnCpu).TotalSeconds / wall : null;
        double? others = wall > 0 && start.Busy is { } b0 && end.Busy is { } b1 ? Math.Max(0, (b1 - b0) / wall - own!.Value) : null;
        double? load = start.Load is null && end.Load is null ? null : Math.Max(start.Load ?? 0, end.Load ?? 0) - (own ?? 0);
        line["cores"] = cores;
        line["cpu"] = MachineLoad.CpuModel();
        line["load_1min_before"] = start.Load;
        line["load_1min_after"] = end.Load;
        line["own_cpu_cores"] = own is { } o ? Math.Round(o, 2) : null;
        line["other_cpu_cores"] = others is { } x ? Math.Round(x, 2) : null;
        line["loaded"] = load > cores || others > cores / 4.0;
        // The UTC stamp aligns the line with tools/gpu-run.sh's nvidia-smi memory log (TorchSharp 0.107 has no CUDA
        // memory statistics).
        line["finished_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        string json = JsonSerializer.Serialize(line);
        Console.WriteLine(json);
        cases.Add(JsonNode.Parse(json)!.AsObject());
    }

    private static double Round(double seconds) => Math.Round(seconds, 4);

    private readonly record struct Snapshot(DateTime Wall, TimeSpan OwnCpu, double? Busy, double? Load)
    {
        public static Snapshot Take()
        {
            using var process = Process.GetCurrentProcess();
            return new(DateTime.UtcNow, process.TotalProcessorTime, MachineLoad.BusySeconds(), MachineLoad.OneMinute());
        }
    }
}
