using System;
using System.Diagnostics;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace ShapGen.Generators.Tests;

/// <summary>
/// Not a timed test: prints the generator's per-edit cost on the three reference models when SHAPGEN_MEASURE=1
/// (reported as skipped otherwise). Each sample edits one model's file (a comment inside its class, so the model is parsed again)
/// and re-runs the driver; the median of 20 per model is printed (wall clock and process CPU time, the latter less
/// sensitive to a loaded machine), next to a run on an unrelated file.
/// </summary>
public class GeneratorCostMeasurement
{
    private readonly ITestOutputHelper _output;

    public GeneratorCostMeasurement(ITestOutputHelper output) => _output = output;

    [MeasurementFact]
    public void PerEditCostOfTheReferenceModels()
    {
        var sources = new[] { TestModels.TwoInputMnist, TestModels.Vgg16, TestModels.FashionCnn, "namespace Other; public class Unrelated { }" };
        var compilation = GeneratorHarness.CreateCompilation(sources);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var names = new[] { "TwoInputMnist", "Vgg16", "FashionCnn", "unrelated file" };
        for (int file = 0; file < sources.Length; file++)
        {
            var times = new double[20];
            var cpu = new double[20];
            var process = Process.GetCurrentProcess();
            for (int i = 0; i < times.Length + 3; i++)
            {
                var tree = compilation.SyntaxTrees.Single(t => t.FilePath == $"/src/File{file}.cs");
                int brace = sources[file].IndexOf('{');
                string edited = sources[file].Insert(brace + 1, $" /* edit {i} */");
                compilation = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(edited)));
                process.Refresh();
                var cpuBefore = process.TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                driver = driver.RunGenerators(compilation);
                watch.Stop();
                process.Refresh();
                if (i >= 3)
                {
                    times[i - 3] = watch.Elapsed.TotalMilliseconds;
                    cpu[i - 3] = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds;
                }
            }
            Array.Sort(times);
            Array.Sort(cpu);
            _output.WriteLine($"{names[file]}: median {times[times.Length / 2]:F1} ms per edit (min {times[0]:F1}, max {times[^1]:F1}); process CPU median {cpu[cpu.Length / 2]:F1} ms");
        }
    }
}

/// <summary>A measurement that runs only when SHAPGEN_MEASURE=1 and otherwise reports as skipped, never as passed.</summary>
public sealed class MeasurementFactAttribute : FactAttribute
{
    /// <summary>Skips unless SHAPGEN_MEASURE=1.</summary>
    public MeasurementFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("SHAPGEN_MEASURE") != "1")
            Skip = "A measurement, not a test: run with SHAPGEN_MEASURE=1 to print the generator's per-edit cost.";
    }
}
