using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>The pipeline is incremental: edits that do not change a model leave its outputs cached.</summary>
public class CachingTests
{
    private static readonly string[] Steps =
    {
        ShapGenGenerator.TrackingNames.Parse, ShapGenGenerator.TrackingNames.Models, ShapGenGenerator.TrackingNames.Diagnostics,
    };

    [Fact]
    public void AnUnrelatedEditLeavesEveryStepCachedOrUnchanged()
    {
        var compilation = GeneratorHarness.CreateCompilation(TestModels.TwoInputMnist, TestModels.Vgg16, "namespace Other; public class Unrelated { public int X; }");
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var first = driver.GetRunResult();

        var unrelated = compilation.SyntaxTrees.Single(t => t.FilePath == "/src/File2.cs");
        var edited = compilation.ReplaceSyntaxTree(unrelated,
            unrelated.WithChangedText(SourceText.From("namespace Other; public class Unrelated { public int X; public int Y; }")));
        driver = driver.RunGenerators(edited);
        var second = driver.GetRunResult();

        AssertAllCachedOrUnchanged(second);
        Assert.Equal(first.Results[0].GeneratedSources.Select(s => s.SourceText.ToString()),
                     second.Results[0].GeneratedSources.Select(s => s.SourceText.ToString()));
    }

    [Fact]
    public void MovingTheModelDownALineDoesNotRegenerateIt()
    {
        var compilation = GeneratorHarness.CreateCompilation(TestModels.TwoInputMnist);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.First();
        var moved = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From("// a comment\n" + TestModels.TwoInputMnist)));
        driver = driver.RunGenerators(moved);
        var result = driver.GetRunResult().Results[0];

        var models = result.TrackedSteps[ShapGenGenerator.TrackingNames.Models].SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(models);
        Assert.All(models, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    [Fact]
    public void ChangingAShapeRegeneratesTheModel()
    {
        var compilation = GeneratorHarness.CreateCompilation(TestModels.TwoInputMnist);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.First();
        var changed = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(TestModels.TwoInputMnist.Replace("[Shape(1, 28, 28)] Tensor flat", "[Shape(784)] Tensor flat"))));
        driver = driver.RunGenerators(changed);
        var models = driver.GetRunResult().Results[0].TrackedSteps[ShapGenGenerator.TrackingNames.Parse].SelectMany(s => s.Outputs).ToList();
        Assert.Contains(models, o => o.Reason == IncrementalStepRunReason.Modified);
    }

    [Fact]
    public void PipelineValuesHoldNoSymbolsSyntaxOrCompilations()
    {
        var run = GeneratorHarness.Run(TestModels.TwoInputMnist, TestModels.Vgg16, TestModels.FashionCnn, DiagnosticCases.All[7].Wrong.Replace("namespace D;", "namespace D2;"));
        var result = run.Result.Results[0];
        int checkedValues = 0;
        foreach (var name in Steps)
        {
            if (!result.TrackedSteps.TryGetValue(name, out var steps)) continue;
            foreach (var step in steps)
                foreach (var (value, _) in step.Outputs)
                {
                    AssertNoForbidden(value, new HashSet<object>(ReferenceEqualityComparer.Instance), name);
                    checkedValues++;
                }
        }
        Assert.True(checkedValues >= 4);
    }

    private static void AssertAllCachedOrUnchanged(GeneratorDriverRunResult result)
    {
        var tracked = result.Results[0].TrackedSteps;
        foreach (var name in Steps)
        {
            if (!tracked.TryGetValue(name, out var steps)) continue;
            foreach (var step in steps)
                foreach (var (_, reason) in step.Outputs)
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {reason}");
        }
    }

    private static readonly Type[] Forbidden =
    {
        typeof(ISymbol), typeof(SyntaxNode), typeof(SemanticModel), typeof(Compilation), typeof(Location), typeof(Diagnostic), typeof(SyntaxTree),
    };

    private static void AssertNoForbidden(object? value, HashSet<object> seen, string path)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value is Enum) return;
        var type = value.GetType();
        Assert.False(Forbidden.Any(f => f.IsAssignableFrom(type)), $"{path} holds a {type.Name}");
        if (!type.IsValueType && !seen.Add(value)) return;
        if (value is TextSpan or Microsoft.CodeAnalysis.Text.LinePositionSpan) return;
        if (value is IEnumerable sequence)
        {
            int i = 0;
            foreach (var item in sequence) AssertNoForbidden(item, seen, $"{path}[{i++}]");
            if (type.IsArray) return;
        }
        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            AssertNoForbidden(field.GetValue(value), seen, path + "." + field.Name);
    }
}
