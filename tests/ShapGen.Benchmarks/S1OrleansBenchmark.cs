using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace ShapGen.Benchmarks;

/// <summary>
/// Scale-out: the OrleansMnist sample's job (GradientExplainer on a small MNIST CNN, float64) with one and with two
/// worker processes on this machine, as rows explained per second and their ratio, with the per-shard overheads the
/// sample reports (model load, explain, write, idle, merge). Each run waits for its workers before the job starts.
/// </summary>
public sealed class S1OrleansBenchmark : IBenchmark
{
    public string Name => "S1";
    public string Description => "Orleans scale-out: rows/s with 1 and 2 worker processes (OrleansMnist sample), ratio and per-shard overheads";

    public void Run(BenchmarkOptions options, Reporter reporter)
    {
        int rows = options.GetInt("rows", options.Quick ? 8 : 400);
        int shardSize = options.GetInt("shard-size", options.Quick ? 2 : 25);
        int nsamples = options.GetInt("nsamples", options.Quick ? 10 : 200);
        var rate = new Dictionary<int, double>();
        foreach (int workers in options.GetInts("workers", "1,2"))
        {
            string folder = Path.Combine(Path.GetTempPath(), "shapgen-s1-" + Guid.NewGuid().ToString("N"));
            try
            {
                string output = RunSample(folder, "--workers", workers.ToString(CultureInfo.InvariantCulture), "--rows", rows.ToString(CultureInfo.InvariantCulture),
                    "--shard-size", shardSize.ToString(CultureInfo.InvariantCulture), "--nsamples", nsamples.ToString(CultureInfo.InvariantCulture), "--quick");
                var job = Regex.Match(output, @"Job: (\d+) rows in ([\d.]+) s = ([\d.]+) rows/s with (\d+) worker\(s\); per shard: explain ([\d.]+) s, write ([\d.]+) s, idle \(coordinator, messages, waiting\) (-?[\d.]+) s; model load ([\d.]+) s once per worker; merge ([\d.]+) s");
                if (!job.Success) throw new InvalidOperationException("The sample printed no 'Job:' line:\n" + output);
                double Number(int group) => double.Parse(job.Groups[group].Value, CultureInfo.InvariantCulture);
                rate[workers] = Number(3);
                reporter.Report(new Dictionary<string, object?>
                {
                    ["workload"] = "S1", ["case"] = $"{workers} worker(s)", ["title"] = "Orleans scale-out (OrleansMnist, float64)",
                    ["workers"] = workers, ["workers_used"] = (int)Number(4), ["rows"] = rows, ["shard_size"] = shardSize, ["nsamples"] = nsamples,
                    ["job_s"] = Number(2), ["rows_per_s"] = Number(3),
                    ["shard_explain_s"] = Number(5), ["shard_write_s"] = Number(6), ["shard_idle_s"] = Number(7),
                    ["model_load_s"] = Number(8), ["merge_s"] = Number(9),
                });
            }
            finally
            {
                try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
            }
        }
        if (rate.TryGetValue(1, out var one) && rate.TryGetValue(2, out var two))
            reporter.Report(new Dictionary<string, object?>
            {
                ["workload"] = "S1", ["case"] = "ratio", ["title"] = "rows/s with 2 workers over rows/s with 1",
                ["ratio_2_over_1"] = Math.Round(two / one, 3), ["cores"] = Environment.ProcessorCount,
            });
    }

    private static string RunSample(string folder, params string[] arguments)
    {
        // This program is in tests/ShapGen.Benchmarks/bin/{Configuration}/{framework}/; the sample is built beside it.
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string exe = Path.Combine(here.FullName, "..", "..", "..", "..", "..", "samples", "OrleansMnist", "bin", here.Parent!.Name, here.Name, "OrleansMnist");
        var info = new ProcessStartInfo(Path.GetFullPath(exe)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments.Concat(new[] { "--out", folder })) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {exe}.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{exe} exited {process.ExitCode}:\n{stdout}\n{stderr.Result}");
        return stdout;
    }
}
