using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using ShapGen.Benchmarks;

// Usage: ShapGen.Benchmarks <name|all|list|readme> [--device cpu|cuda] [--quick] [--repeats R] [benchmark options]
// Every benchmark prints one JSON line per case: its phases (ShapGen and the baselines) run interleaved, each with
// the median and min–max of wall and process CPU time, and the machine's load before and after.
var benchmarks = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

string which = args.Length > 0 ? args[0] : "list";
string[] rest = args.Skip(1).ToArray();
if (which == "list")
{
    foreach (var b in benchmarks) Console.WriteLine($"{b.Name,-12} {b.Description}");
    Console.WriteLine($"{"readme",-12} the README's set; rewrites the tables between <!-- bench:… --> markers (see tools/bench-readme.sh)");
    return 0;
}
if (which == "readme")
    return ReadmeCommand.Run(benchmarks, rest);

var selected = benchmarks.Where(b => which == "all" || string.Equals(b.Name, which, StringComparison.OrdinalIgnoreCase)).ToList();
if (selected.Count == 0)
{
    Console.Error.WriteLine($"No benchmark named '{which}'. Known: {string.Join(", ", benchmarks.Select(b => b.Name))}, readme.");
    return 2;
}
var options = BenchmarkOptions.Parse(rest);
var reporter = new Reporter();
foreach (var b in selected) b.Run(options, reporter);
return 0;

/// <summary>
/// The README's set with settings that fit a 2-core machine in a few minutes; rewrites the tables between the
/// markers in README.md and docs/*.md, unless a case ran on a loaded machine (then it prints the table and exits 3;
/// --force writes it anyway, marked loaded). --quick uses small settings and never writes. --dry-run prints only.
/// --command TEXT is the command quoted above the table; --jsonl PATH keeps the JSON lines; --from-jsonl PATH
/// regenerates the tables from such a file instead of running.
/// </summary>
internal static class ReadmeCommand
{
    public static int Run(IReadOnlyList<IBenchmark> benchmarks, string[] args)
    {
        var options = BenchmarkOptions.Parse(args);
        bool write = !options.Quick && options.Get("dry-run", "false") != "true";
        string repeats = options.Repeats.ToString(CultureInfo.InvariantCulture);
        string[] common = options.Quick ? new[] { "--quick", "--repeats", repeats } : new[] { "--repeats", repeats };
        var set = new (string Name, string[] Args)[]
        {
            ("W1", options.Quick ? new[] { "--n", "3", "--naive-samples", "3" } : new[] { "--n", "3,20", "--naive-samples", "5" }),
            ("W3", options.Quick ? new[] { "--n", "3", "--bg", "100", "--loop-samples", "1", "--replicate", "false" }
                                 : new[] { "--n", "10", "--bg", "100", "--loop-samples", "2", "--replicate", "false" }),
            ("W4", options.Quick ? new[] { "--nsamples", "200" } : Array.Empty<string>()),
        };
        IReadOnlyList<JsonObject> results;
        var finished = DateTime.UtcNow;
        if (options.Extra.TryGetValue("from-jsonl", out var saved))
        {
            // Regenerate the tables from a saved run (e.g. one taken with --jsonl) instead of running again.
            write = options.Get("dry-run", "false") != "true";
            results = File.ReadLines(saved).Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            finished = results.Select(c => (string?)c["finished_utc"]).Where(t => t is not null)
                .Select(t => DateTime.Parse(t!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)).DefaultIfEmpty(finished).Max();
        }
        else
        {
            var reporter = new Reporter();
            foreach (var (name, extra) in set)
                benchmarks.Single(b => b.Name == name).Run(BenchmarkOptions.Parse(extra.Concat(common).ToArray()), reporter);
            results = reporter.Cases;
            finished = DateTime.UtcNow;
        }

        var machine = new MachineInfo(
            results.Select(c => (int?)c["cores"]).FirstOrDefault(v => v is not null) ?? MachineLoad.Cores,
            results.Select(c => (string?)c["cpu"]).FirstOrDefault(v => v is not null) ?? MachineLoad.CpuModel(), finished,
            options.Get("command", "dotnet run -c Release --project tests/ShapGen.Benchmarks -- readme " + string.Join(' ', args)).Trim());
        if (options.Extra.TryGetValue("jsonl", out var jsonl))
            File.WriteAllLines(jsonl, results.Select(c => c.ToJsonString()));
        string table = ReadmeTable.Format(results, machine);
        Console.WriteLine();
        Console.WriteLine(table);

        int loaded = results.Count(c => c["loaded"]?.GetValue<bool>() == true);
        if (loaded > 0)
            Console.Error.WriteLine($"bench readme: {loaded} of {results.Count} cases ran with the load average above {MachineLoad.Cores} cores (\"loaded\": true).");
        if (!write)
        {
            Console.Error.WriteLine("bench readme: nothing written (--quick or --dry-run).");
            return loaded > 0 ? 3 : 0;
        }
        if (loaded > 0 && options.Get("force", "false") != "true")
        {
            Console.Error.WriteLine("bench readme: refusing to write figures from a loaded machine; rerun when it is idle (or pass --force).");
            return 3;
        }
        string root = FindRoot();
        var files = new[] { Path.Combine(root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal));
        var workloads = results.Select(c => (string)c["workload"]!).Distinct().ToList();
        foreach (string file in files)
        {
            string text = File.ReadAllText(file);
            string updated = text;
            foreach (string? w in ReadmeTable.MarkedWorkloads(text, workloads))
            {
                var cases = results.Where(c => w is null || (string)c["workload"]! == w).ToList();
                updated = ReadmeTable.Replace(updated, w, ReadmeTable.Format(cases, machine))!;
            }
            if (updated != text)
            {
                File.WriteAllText(file, updated);
                Console.Error.WriteLine($"bench readme: updated {Path.GetRelativePath(root, file)}");
            }
        }
        return 0;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ShapGen.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No ShapGen.sln in {Directory.GetCurrentDirectory()} or above: run from the repository.");
    }
}
