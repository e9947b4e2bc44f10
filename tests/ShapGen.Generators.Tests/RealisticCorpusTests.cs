using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace ShapGen.Generators.Tests;

/// <summary>
/// The realistic corpus: no false error on any correct model, every generated file compiles, no swallowed exception,
/// and at least 90 % of the planted bugs reported at the right line (the rate is printed).
/// </summary>
public class RealisticCorpusTests
{
    private readonly ITestOutputHelper _output;

    public RealisticCorpusTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> ModelNames() => RealisticCorpus.Models.Select(m => new object[] { m.Name });

    [Fact]
    public void TheCorpusHasThirtyCorrectAndThirtyBuggyModels()
    {
        Assert.True(RealisticCorpus.Models.Count >= 30 && RealisticCorpus.Bugs.Count >= 30);
        foreach (var bug in RealisticCorpus.Bugs)
            Assert.Contains(bug.Find, RealisticCorpus.Models.Single(m => m.Name == bug.Model).Source);
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void ACorrectModelGetsNoErrorAndItsGeneratedCodeCompiles(string name)
    {
        var source = RealisticCorpus.Models.Single(m => m.Name == name).Source;
        var run = SwallowedExceptions.Watch(() => GeneratorHarness.Run(source));
        Assert.Empty(run.AllDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Empty(run.GeneratedCodeProblems);
    }

    [Fact]
    public void AtLeastNinetyPercentOfPlantedBugsAreReportedAtTheirLine()
    {
        int detected = 0;
        var missed = new List<string>();
        foreach (var (model, find, replace, line) in RealisticCorpus.Bugs)
        {
            var source = RealisticCorpus.Models.Single(m => m.Name == model).Source.Replace(find, replace);
            var lines = source.Split('\n');
            var expected = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains(line)).ToList();
            Assert.True(expected.Count == 1, $"{model}: the line marker '{line}' must be unique");
            var run = SwallowedExceptions.Watch(() => GeneratorHarness.Run(source));
            Assert.Empty(run.GeneratedCodeProblems);
            var errors = run.AllDiagnostics().Where(d => d.Id is "SHAPGEN008" or "SHAPGEN009").ToList();
            if (errors.Any(e => e.Location.GetLineSpan().StartLinePosition.Line == expected[0]))
            {
                detected++;
                _output.WriteLine($"detected  {model}: {errors.First(e => e.Location.GetLineSpan().StartLinePosition.Line == expected[0]).GetMessage()}");
            }
            else missed.Add($"{model}: {string.Join("; ", errors.Select(e => e.ToString()))}");
        }
        foreach (var m in missed) _output.WriteLine("missed    " + m);
        double rate = detected / (double)RealisticCorpus.Bugs.Count;
        _output.WriteLine($"detection rate: {detected} of {RealisticCorpus.Bugs.Count} ({rate:P0})");
        Assert.True(rate >= 0.9, $"{detected} of {RealisticCorpus.Bugs.Count} detected; missed:\n" + string.Join("\n", missed));
    }
}
