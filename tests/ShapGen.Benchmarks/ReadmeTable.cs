using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;

namespace ShapGen.Benchmarks;

/// <summary>Where and how a set of benchmark figures was taken, printed above the table.</summary>
/// <param name="Cores">Logical cores.</param>
/// <param name="CpuModel">CPU model from /proc/cpuinfo.</param>
/// <param name="FinishedUtc">When the run finished.</param>
/// <param name="Command">The exact command that produced the figures.</param>
public sealed record MachineInfo(int Cores, string CpuModel, DateTime FinishedUtc, string Command);

/// <summary>
/// Turns the benchmarks' JSON lines into the Markdown table of the README (and the docs), and replaces the text
/// between marker comments: <c>&lt;!-- bench:begin --&gt;</c> … <c>&lt;!-- bench:end --&gt;</c> takes every case,
/// <c>&lt;!-- bench:W1:begin --&gt;</c> … <c>&lt;!-- bench:W1:end --&gt;</c> the cases of one workload.
/// </summary>
public static class ReadmeTable
{
    /// <summary>The opening marker for <paramref name="workload"/> (null: every case).</summary>
    public static string BeginMarker(string? workload) => workload is null ? "<!-- bench:begin -->" : $"<!-- bench:{workload}:begin -->";

    /// <summary>The closing marker for <paramref name="workload"/> (null: every case).</summary>
    public static string EndMarker(string? workload) => workload is null ? "<!-- bench:end -->" : $"<!-- bench:{workload}:end -->";

    /// <summary>
    /// The table for <paramref name="cases"/> (the first phase of each case is ShapGen, the others its baselines or,
    /// named <c>shapgen_*</c>, other ways of calling ShapGen),
    /// headed by the machine, the date, the command and the load, and a warning when any case was flagged loaded.
    /// </summary>
    public static string Format(IReadOnlyList<JsonObject> cases, MachineInfo machine)
    {
        var timed = cases.Where(c => c["phases"] is JsonObject p && p.Count > 0).ToList();
        var sb = new StringBuilder();
        var loads = timed.SelectMany(c => new[] { c["load_1min_before"], c["load_1min_after"] })
            .Where(n => n is not null).Select(n => n!.GetValue<double>()).ToList();
        var runs = timed.SelectMany(c => Phases(c)).Select(p => (int)p.Value["runs"]!).Distinct().OrderBy(r => r).ToList();
        sb.Append(Invariant($"Measured {machine.FinishedUtc:yyyy-MM-dd HH:mm} UTC on {machine.CpuModel} ({machine.Cores} cores)"));
        sb.Append(loads.Count > 0 ? Invariant($", 1-minute load average {loads.Min():0.00}–{loads.Max():0.00} during the run") : "");
        sb.AppendLine(", with").AppendLine($"`{machine.Command}`.");
        sb.Append("Each time: the median of ").Append(string.Join("/", runs)).Append(" runs, phases interleaved (min–max in brackets); ")
          .AppendLine("process CPU time below it. Ratio: baseline time ÷ ShapGen time (above 1: ShapGen is faster).");
        int loaded = timed.Count(c => c["loaded"]?.GetValue<bool>() == true);
        if (loaded > 0)
            sb.AppendLine().Append(Invariant($"**Loaded machine: other work competed for the {machine.Cores} cores during {loaded} of {timed.Count} cases "))
              .AppendLine("(marked \"loaded\"); these figures are not representative.**");
        sb.AppendLine()
          .AppendLine("| workload | ShapGen | baseline | baseline time | ratio wall (CPU) |")
          .AppendLine("| --- | --- | --- | --- | --- |");
        foreach (var c in timed)
        {
            var phases = Phases(c).ToList();
            var subject = phases[0].Value;
            string title = (string?)c["title"] ?? (string?)c["workload"] ?? "?";
            if (c["loaded"]?.GetValue<bool>() == true) title += " (loaded)";
            string subjectCell = Time(subject);
            if (phases.Count == 1)
            {
                sb.AppendLine($"| {title} | {subjectCell} | – | – | – |");
                continue;
            }
            for (int i = 1; i < phases.Count; i++)
            {
                var b = phases[i].Value;
                double wall = (double)b["wall_median_s"]! / (double)subject["wall_median_s"]!;
                double cpu = (double)b["cpu_median_s"]! / (double)subject["cpu_median_s"]!;
                // A phase named shapgen_* is another way of calling ShapGen (e.g. including the model load), not a baseline.
                string ratio = phases[i].Key.StartsWith("shapgen", StringComparison.Ordinal) ? "(ShapGen variant)" : Invariant($"{wall:0.00}× ({cpu:0.00}×)");
                sb.AppendLine(i == 1
                    ? $"| {title} | {subjectCell} | {Label(b)} | {Time(b)} | {ratio} |"
                    : $"| | | {Label(b)} | {Time(b)} | {ratio} |");
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// Replaces the text between the markers of <paramref name="workload"/> in <paramref name="document"/> with
    /// <paramref name="content"/>; returns null when the document has no such markers.
    /// </summary>
    /// <exception cref="FormatException">The opening marker has no closing marker after it.</exception>
    public static string? Replace(string document, string? workload, string content)
    {
        string begin = BeginMarker(workload), end = EndMarker(workload);
        int start = document.IndexOf(begin, StringComparison.Ordinal);
        if (start < 0) return null;
        int stop = document.IndexOf(end, start, StringComparison.Ordinal);
        if (stop < 0) throw new FormatException($"'{begin}' has no '{end}' after it.");
        int from = start + begin.Length;
        return document[..from] + "\n" + content.TrimEnd('\n') + "\n" + document[stop..];
    }

    /// <summary>The workloads whose markers appear in <paramref name="document"/> (null for the all-cases marker).</summary>
    public static IEnumerable<string?> MarkedWorkloads(string document, IEnumerable<string> workloads) =>
        new string?[] { null }.Concat(workloads).Where(w => document.Contains(BeginMarker(w), StringComparison.Ordinal));

    private static IEnumerable<KeyValuePair<string, JsonObject>> Phases(JsonObject c) =>
        ((JsonObject)c["phases"]!).Select(kv => new KeyValuePair<string, JsonObject>(kv.Key, (JsonObject)kv.Value!));

    private static string Label(JsonObject phase)
    {
        string label = (string?)phase["label"] ?? "?";
        double scale = (double?)phase["scale"] ?? 1;
        return Math.Abs(scale - 1) < 1e-9 ? label : Invariant($"{label} (timed on a subset, ×{scale:0.##})");
    }

    private static string Time(JsonObject phase) =>
        $"{Seconds((double)phase["wall_median_s"]!)} ({Seconds((double)phase["wall_min_s"]!, unit: false)}–{Seconds((double)phase["wall_max_s"]!, unit: false)})" +
        $"<br>CPU {Seconds((double)phase["cpu_median_s"]!)} ({Seconds((double)phase["cpu_min_s"]!, unit: false)}–{Seconds((double)phase["cpu_max_s"]!, unit: false)})";

    /// <summary>Three significant digits, thousands separated: 0.203, 1.01, 10.8, 2,199.</summary>
    internal static string Seconds(double s, bool unit = true)
    {
        string text = s >= 100 ? Invariant($"{s:#,0}") : s >= 10 ? Invariant($"{s:0.0}") : s >= 1 ? Invariant($"{s:0.00}") : Invariant($"{s:0.000}");
        return unit ? text + " s" : text;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
