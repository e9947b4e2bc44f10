using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;
using static Microsoft.CodeAnalysis.IncrementalStepRunReason;

namespace ShapGen.Generators.Tests;

/// <summary>
/// The pipeline is incremental. Every generator test re-runs on a cloned compilation (see <see cref="Caching"/>);
/// here each kind of edit gets the run reason expected of each step (after Mapperly's IncrementalGeneratorRunReasons).
/// </summary>
public class CachingTests
{
    /// <summary>The expected reason of every output of each step; null where the step has no output.</summary>
    public sealed record RunReasons(IncrementalStepRunReason? Parse, IncrementalStepRunReason? Models, IncrementalStepRunReason? Diagnostics, IncrementalStepRunReason? SourceOutput)
    {
        public override string ToString() => $"Parse {Parse}, Models {Models}, Diagnostics {Diagnostics}, SourceOutput {SourceOutput}";
    }

    private const string Unrelated = "namespace Other; public class Unrelated { public int X; }";

    /// <summary>A model with a SHAPGEN012 warning (forward called directly), so that the diagnostics step has output.</summary>
    private const string Warned = TestModels.Usings + """
        namespace W;

        [Explainable]
        public sealed partial class Warned : nn.Module<Tensor, Tensor>
        {
            private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(12, 4);
            public Warned() : base(nameof(Warned)) => RegisterComponents();
            public override Tensor forward([Shape(12)] Tensor x) => fc.forward(x);
        }
        """;

    public static TheoryData<string, RunReasons> Edits() => new()
    {
        // Parsing re-runs on any edit (it needs the new semantic model) but gives equal values: nothing else re-runs.
        { "unrelated file", new RunReasons(Unchanged, Cached, Cached, Cached) },
        // The model's file is re-parsed, to an equal value: nothing downstream re-runs.
        { "comment above the model", new RunReasons(Unchanged, Cached, null, Cached) },
        { "member added outside forward", new RunReasons(Unchanged, Cached, null, Cached) },
        // The model changed: it is parsed, selected and printed again.
        { "input shape", new RunReasons(Modified, Modified, null, Modified) },
        { "label text", new RunReasons(Modified, Modified, null, Modified) },
        // The warning moved: only its diagnostic is new; the generated source stays cached.
        { "warned model moved down a line", new RunReasons(Modified, Cached, Modified, Cached) },
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public void EachKindOfEditRerunsOnlyWhatItChanges(string edit, RunReasons expected)
    {
        var (file, before, after) = edit switch
        {
            "unrelated file" => (2, Unrelated, "namespace Other; public class Unrelated { public int X; public int Y; }"),
            "comment above the model" => (0, TestModels.TwoInputMnist, "// a comment\n" + TestModels.TwoInputMnist),
            "member added outside forward" => (0, TestModels.TwoInputMnist, TestModels.TwoInputMnist.Replace("[return: Shape(10)]", "public int Version => 1;\n\n    [return: Shape(10)]")),
            "input shape" => (0, TestModels.TwoInputMnist, TestModels.TwoInputMnist.Replace("[Shape(1, 28, 28)] Tensor flat", "[Shape(784)] Tensor flat")),
            "label text" => (0, TestModels.TwoInputMnist, TestModels.TwoInputMnist.Replace("\"9\" }", "\"nine\" }")),
            "warned model moved down a line" => (1, Warned, "\n" + Warned),
            _ => throw new ArgumentOutOfRangeException(nameof(edit), edit, "Unknown edit."),
        };
        Assert.NotEqual(before, after);
        var sources = new[] { TestModels.TwoInputMnist, Warned, Unrelated };
        sources[file] = before;
        var compilation = GeneratorHarness.CreateCompilation(sources);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single(t => t.FilePath == $"/src/File{file}.cs");
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(after))));
        var result = driver.GetRunResult().Results.Single();

        var actual = new RunReasons(
            Reason(result, ShapGenGenerator.TrackingNames.Parse, file),
            Reason(result, ShapGenGenerator.TrackingNames.Models, file),
            Reason(result, ShapGenGenerator.TrackingNames.Diagnostics, file),
            Caching.SourceOutputReasons(result).Where(o => OfFile(o.Model, file)).Select(o => (IncrementalStepRunReason?)o.Reason).Distinct().SingleOrDefault());
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void EveryTrackedStepRunsForAModelWithADiagnostic()
    {
        var run = GeneratorHarness.Run(TestModels.TwoInputMnist, Warned);
        Assert.NotEmpty(Caching.TrackingNames);
        foreach (var name in Caching.TrackingNames)
            Assert.True(run.Result.Results.Single().TrackedSteps.ContainsKey(name), $"The tracked step '{name}' did not run: renamed, or no longer tracked?");
    }

    /// <summary>The single reason of the step's outputs that belong to the edited file (one model per file here).</summary>
    private static IncrementalStepRunReason? Reason(GeneratorRunResult result, string step, int file)
    {
        if (!result.TrackedSteps.TryGetValue(step, out var steps)) return null;
        var reasons = steps.SelectMany(s => s.Outputs).Where(o => OfFile(o.Value, file)).Select(o => o.Reason).Distinct().ToList();
        return reasons.Count == 0 ? null : Assert.Single(reasons);
    }

    /// <summary>Whether a pipeline value comes from source file <paramref name="file"/> (File0: TwoInputMnist, File1: Warned, File2: unrelated).</summary>
    private static bool OfFile(object value, int file) => file == 2 || value switch
    {
        Model.ParseResult parsed => parsed.Model is { } model ? OfFile(model, file) : parsed.Diagnostics.Any(d => OfFile(d, file)),
        Model.ModelSpec model => model.ClassName == (file == 0 ? "TwoInputMnist" : "Warned"),
        Model.DiagnosticInfo diagnostic => diagnostic.Location?.FilePath == $"/src/File{file}.cs",
        Model.EquatableArray<Model.DiagnosticInfo> diagnostics => diagnostics.Any(d => OfFile(d, file)),
        _ => throw new InvalidOperationException($"A pipeline value of an unexpected type: {value.GetType()}"),
    };
}
