using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>A benchmark: prints one JSON line per case, timing ShapGen against baselines in the same process.</summary>
public interface IBenchmark
{
    /// <summary>Short name used on the command line (e.g. W1).</summary>
    string Name { get; }

    /// <summary>One line saying what is measured.</summary>
    string Description { get; }

    /// <summary>Runs every case and prints JSON lines.</summary>
    void Run(BenchmarkOptions options);
}

/// <summary>Command-line options common to all benchmarks.</summary>
public sealed class BenchmarkOptions
{
    public Device Device { get; private set; } = CPU;
    public bool Quick { get; private set; }
    public int Repeats { get; private set; } = 3;
    public Dictionary<string, string> Extra { get; } = new(StringComparer.OrdinalIgnoreCase);

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
                case "--repeats": o.Repeats = int.Parse(next!, CultureInfo.InvariantCulture); i++; break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal) && next is not null && !next.StartsWith("--", StringComparison.Ordinal))
                    { o.Extra[a[2..]] = next; i++; }
                    else if (a.StartsWith("--", StringComparison.Ordinal)) o.Extra[a[2..]] = "true";
                    break;
            }
        }
        return o;
    }

    public string Get(string key, string fallback) => Extra.TryGetValue(key, out var v) ? v : fallback;
    public int[] GetInts(string key, string fallback) =>
        Get(key, fallback).Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}

/// <summary>Timing and reporting helpers.</summary>
public static class Measure
{
    /// <summary>Median wall time in seconds of <paramref name="repeats"/> runs after one warm-up; synchronises CUDA.</summary>
    public static double Median(Action action, Device device, int repeats)
    {
        action();
        Sync(device);
        var times = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            Sync(device);
            var sw = Stopwatch.StartNew();
            action();
            Sync(device);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    public static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
    }

    /// <summary>
    /// Prints one JSON object on its own line, stamped with the UTC time it finished (TorchSharp 0.107 has no CUDA
    /// memory statistics: tools/gpu-run.sh samples nvidia-smi, and the stamps align its log with the cases).
    /// </summary>
    public static void Report(IReadOnlyDictionary<string, object?> fields)
    {
        var stamped = new Dictionary<string, object?>(fields) { ["finished_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture) };
        Console.WriteLine(JsonSerializer.Serialize(stamped));
    }
}
