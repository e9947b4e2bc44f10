using System;
using System.Linq;
using System.Text.Json.Nodes;
using ShapGen.Benchmarks;
using Xunit;

namespace ShapGen.Tests.Benchmarks;

/// <summary>The README's benchmark table from fixed JSON lines (no timing here).</summary>
public sealed class ReadmeTableTests
{
    private const string W1 = """
        {"workload":"W1","case":"n=3","title":"W1 N = 3","loaded":false,"load_1min_before":0.12,"load_1min_after":0.5,
         "phases":{
          "shapgen":{"label":"ShapGen","runs":5,"scale":1,"wall_median_s":1.0,"wall_min_s":0.95,"wall_max_s":1.2,"cpu_median_s":2.0,"cpu_min_s":1.9,"cpu_max_s":2.2},
          "loop":{"label":"shap-structured loop","runs":5,"scale":4,"wall_median_s":1.5,"wall_min_s":1.4,"wall_max_s":1.6,"cpu_median_s":3.0,"cpu_min_s":2.9,"cpu_max_s":3.1},
          "ideal_retain":{"label":"ideal batched loop (retain)","runs":5,"scale":1,"wall_median_s":0.8,"wall_min_s":0.75,"wall_max_s":0.85,"cpu_median_s":1.6,"cpu_min_s":1.5,"cpu_max_s":1.7}}}
        """;

    private const string W4Loaded = """
        {"workload":"W4","case":"onnx-cpu","title":"W4 ONNX","loaded":true,"load_1min_before":3.1,"load_1min_after":2.5,
         "phases":{
          "shapgen":{"label":"ShapGen","runs":5,"scale":1,"wall_median_s":0.2034,"wall_min_s":0.2,"wall_max_s":0.21,"cpu_median_s":0.3,"cpu_min_s":0.29,"cpu_max_s":0.31},
          "shapgen_whole":{"label":"ShapGen, whole call","runs":5,"scale":1,"wall_median_s":0.3,"wall_min_s":0.3,"wall_max_s":0.3,"cpu_median_s":0.3,"cpu_min_s":0.3,"cpu_max_s":0.3},
          "loop":{"label":"one coalition per call","runs":5,"scale":1,"wall_median_s":2199.4,"wall_min_s":2000,"wall_max_s":2500,"cpu_median_s":15,"cpu_min_s":12.34,"cpu_max_s":16}}}
        """;

    private static readonly MachineInfo Machine = new(2, "AMD EPYC", new DateTime(2026, 11, 30, 3, 4, 0, DateTimeKind.Utc), "tools/bench-readme.sh");

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void Table_has_one_row_per_baseline_with_medians_spreads_and_ratios()
    {
        string table = ReadmeTable.Format(new[] { Parse(W1) }, Machine);
        var rows = table.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| ---", StringComparison.Ordinal)).ToArray();
        Assert.Equal("| workload | ShapGen | baseline | baseline time | ratio wall (CPU) |", rows[0]);
        // 1.5 / 1.0 = 1.50 (wall), 3.0 / 2.0 = 1.50 (CPU); 0.8 / 1.0 = 0.80, 1.6 / 2.0 = 0.80.
        Assert.Equal("| W1 N = 3 | 1.00 s (0.950–1.20)<br>CPU 2.00 s (1.90–2.20) | shap-structured loop (timed on a subset, ×4) | 1.50 s (1.40–1.60)<br>CPU 3.00 s (2.90–3.10) | 1.50× (1.50×) |", rows[1]);
        Assert.Equal("| | | ideal batched loop (retain) | 0.800 s (0.750–0.850)<br>CPU 1.60 s (1.50–1.70) | 0.80× (0.80×) |", rows[2]);
        Assert.Equal(3, rows.Length);
        Assert.Contains("Measured 2026-11-30 03:04 UTC on AMD EPYC (2 cores), 1-minute load average 0.12–0.50 during the run, with", table);
        Assert.Contains("`tools/bench-readme.sh`", table);
        Assert.Contains("the median of 5 runs, phases interleaved", table);
        Assert.DoesNotContain("Loaded machine", table);
    }

    [Fact]
    public void Loaded_cases_are_marked_and_large_times_get_thousands_separators()
    {
        string table = ReadmeTable.Format(new[] { Parse(W1), Parse(W4Loaded) }, Machine);
        Assert.Contains("**Loaded machine: other work competed for the 2 cores during 1 of 2 cases", table);
        // 2199.4 / 0.2034 = 10813.2; 15 / 0.3 = 50.
        Assert.Contains("| W4 ONNX (loaded) | 0.203 s (0.200–0.210)<br>CPU 0.300 s (0.290–0.310) | ShapGen, whole call | 0.300 s (0.300–0.300)<br>CPU 0.300 s (0.300–0.300) | (ShapGen variant) |", table);
        Assert.Contains("| | | one coalition per call | 2,199 s (2,000–2,500)<br>CPU 15.0 s (12.3–16.0) | 10813.18× (50.00×) |", table);
        Assert.Contains("load average 0.12–3.10", table);
    }

    [Fact]
    public void Replace_swaps_only_the_text_between_the_markers_of_the_workload()
    {
        string doc = "intro\n<!-- bench:begin -->\nold all\n<!-- bench:end -->\nmiddle\n<!-- bench:W4:begin -->\nold W4\n<!-- bench:W4:end -->\nend\n";
        string? all = ReadmeTable.Replace(doc, null, "new all\n");
        Assert.Equal("intro\n<!-- bench:begin -->\nnew all\n<!-- bench:end -->\nmiddle\n<!-- bench:W4:begin -->\nold W4\n<!-- bench:W4:end -->\nend\n", all);
        string? w4 = ReadmeTable.Replace(all!, "W4", "new W4");
        Assert.Equal("intro\n<!-- bench:begin -->\nnew all\n<!-- bench:end -->\nmiddle\n<!-- bench:W4:begin -->\nnew W4\n<!-- bench:W4:end -->\nend\n", w4);
        Assert.Null(ReadmeTable.Replace(doc, "W1", "x"));
        Assert.Equal(new string?[] { null, "W4" }, ReadmeTable.MarkedWorkloads(doc, new[] { "W1", "W4" }).ToArray());
        Assert.Throws<FormatException>(() => ReadmeTable.Replace("<!-- bench:W1:begin --> no end", "W1", "x"));
    }
}
