using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace ShapGen.Generators.Tests.Infrastructure;

/// <summary>
/// Checks that the generator's pipeline is incremental (after NetEscapades' TestHelpers and Mapperly's
/// IncrementalGeneratorRunReasons): every run is repeated on a cloned compilation and must come out of the cache.
/// </summary>
internal static class Caching
{
    /// <summary>The generator's tracked steps, read from its constants so that a step renamed or no longer tracked cannot pass silently.</summary>
    public static IReadOnlyList<string> TrackingNames { get; } =
        typeof(ShapGenGenerator.TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToArray();

    /// <summary>
    /// Re-runs <paramref name="driver"/> (which has run once on <paramref name="compilation"/>) on a clone of it: every
    /// tracked step must give equal values, Cached or Unchanged, none holding a symbol, syntax or compilation, and the
    /// source output must be Cached with the same text.
    /// </summary>
    public static void AssertRerunIsCached(GeneratorDriver driver, Compilation compilation)
    {
        var first = driver.GetRunResult().Results.Single();
        var second = driver.RunGenerators(compilation.Clone()).GetRunResult().Results.Single();
        Assert.Null(first.Exception);
        foreach (var name in TrackingNames)
        {
            // A step with no input (e.g. diagnostics of a clean model) is absent from both runs; CachingTests checks
            // that every name does appear for a source that exercises every step.
            Assert.Equal(first.TrackedSteps.ContainsKey(name), second.TrackedSteps.ContainsKey(name));
            if (!first.TrackedSteps.ContainsKey(name)) continue;
            var before = first.TrackedSteps[name];
            var after = second.TrackedSteps[name];
            Assert.Equal(before.Length, after.Length);
            for (int i = 0; i < before.Length; i++)
            {
                Assert.Equal(before[i].Outputs.Select(o => o.Value), after[i].Outputs.Select(o => o.Value));
                foreach (var (value, reason) in after[i].Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {reason} on an unchanged compilation");
                    AssertNoForbidden(value, new HashSet<object>(ReferenceEqualityComparer.Instance), name);
                }
            }
        }
        foreach (var (reason, _) in SourceOutputReasons(second))
            Assert.Equal(IncrementalStepRunReason.Cached, reason);
        Assert.Equal(first.GeneratedSources.Select(s => s.SourceText.ToString()), second.GeneratedSources.Select(s => s.SourceText.ToString()));
    }

    /// <summary>
    /// The run reasons of the output that adds the generated source, with the model each run printed (the
    /// diagnostics' output is combined with the compilation to re-anchor locations, so it runs on every edit by design).
    /// </summary>
    public static IEnumerable<(IncrementalStepRunReason Reason, object Model)> SourceOutputReasons(GeneratorRunResult result) =>
        from step in result.TrackedOutputSteps.SelectMany(kv => kv.Value)
        from input in step.Inputs
        where input.Source.Name == ShapGenGenerator.TrackingNames.Models
        from output in step.Outputs
        select (output.Reason, input.Source.Outputs[input.OutputIndex].Value);

    private static readonly Type[] Forbidden =
    {
        typeof(ISymbol), typeof(SyntaxNode), typeof(SemanticModel), typeof(Compilation), typeof(Location), typeof(Diagnostic), typeof(SyntaxTree),
    };

    /// <summary>Walks a pipeline value's object graph and fails on anything that would keep a compilation alive.</summary>
    public static void AssertNoForbidden(object? value, HashSet<object> seen, string path)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value is Enum) return;
        var type = value.GetType();
        Assert.False(Forbidden.Any(f => f.IsAssignableFrom(type)), $"{path} holds a {type.Name}");
        if (!type.IsValueType && !seen.Add(value)) return;
        if (value is TextSpan or LinePositionSpan) return;
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
