using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>
/// One case per diagnostic: the wrong code reports exactly that id, with its severity, at the span between the
/// <c>/*&lt;*/</c> and <c>/*&gt;*/</c> markers; the corrected code reports nothing.
/// </summary>
public class DiagnosticTests
{
    private const string M = TestModels.Usings + "namespace D;\n";

    public static IEnumerable<object[]> Cases() => DiagnosticCases.All.Select(c => new object[] { c.Id });

    [Theory]
    [MemberData(nameof(Cases))]
    public void WrongCodeReportsTheDiagnosticAtItsSpan(string id)
    {
        var c = DiagnosticCases.All.Single(x => x.Id == id);
        var run = GeneratorHarness.Run(Compile(c, c.Wrong), c.AdditionalFiles);
        var shapGen = run.AllDiagnostics().Where(d => d.Id.StartsWith("SHAPGEN", StringComparison.Ordinal)).ToList();

        var diagnostic = Assert.Single(shapGen);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticDescriptors.ById(id).DefaultSeverity, diagnostic.Severity);
        Assert.Equal(c.Severity, diagnostic.Severity);
        Assert.Equal(ExpectedSpan(c.Wrong), diagnostic.Location.SourceSpan);
        Assert.True(diagnostic.Location.IsInSource);
        if (c.MessageContains is not null) Assert.Contains(c.MessageContains, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CorrectedCodeReportsNothing(string id)
    {
        var c = DiagnosticCases.All.Single(x => x.Id == id);
        var run = GeneratorHarness.Run(Compile(c, c.Right), c.AdditionalFiles);
        Assert.Empty(run.AllDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void EveryDescriptorHasATestCaseAndADocumentedWrongAndRightExample()
    {
        string docs = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "diagnostics.md"));
        foreach (var descriptor in DiagnosticDescriptors.All)
        {
            Assert.Contains(DiagnosticCases.All, c => c.Id == descriptor.Id);
            int heading = docs.IndexOf("## " + descriptor.Id, StringComparison.Ordinal);
            Assert.True(heading >= 0, descriptor.Id + " is not documented");
            int next = docs.IndexOf("\n## ", heading + 3, StringComparison.Ordinal);
            string section = next < 0 ? docs.Substring(heading) : docs.Substring(heading, next - heading);
            Assert.Contains("Wrong", section);
            Assert.Contains("Right", section);
            Assert.EndsWith("#" + descriptor.Id.ToLowerInvariant(), descriptor.HelpLinkUri);
        }
        string unshipped = File.ReadAllText(Path.Combine(RepoRoot(), "generators", "ShapGen.Generators", "AnalyzerReleases.Unshipped.md"));
        foreach (var descriptor in DiagnosticDescriptors.All)
            Assert.Contains(descriptor.Id + " |", unshipped);
    }

    [Fact]
    public void TheCoverageReportIsOffByDefault()
    {
        var c = DiagnosticCases.All.Single(x => x.Id == "SHAPGEN015");
        Assert.False(DiagnosticDescriptors.ShapeCoverage.IsEnabledByDefault);
        Assert.DoesNotContain(GeneratorHarness.Run(c.Wrong).Result.Diagnostics, d => d.Id == "SHAPGEN015");
    }

    [Fact]
    public void TheCoverageReportNamesTheOutputWhenForwardIsFollowedToTheEnd()
    {
        var c = DiagnosticCases.All.Single(x => x.Id == "SHAPGEN015");
        var report = Assert.Single(GeneratorHarness.Run(Compile(c, c.Right)).Result.Diagnostics, d => d.Id == "SHAPGEN015");
        Assert.Equal("Shapes in 'M' are followed through forward to line 12; the output is [4]", report.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static Microsoft.CodeAnalysis.CSharp.CSharpCompilation Compile(DiagnosticCase c, string source)
    {
        var compilation = GeneratorHarness.CreateCompilation(source);
        return c.Enable
            ? compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions(new[] { new KeyValuePair<string, ReportDiagnostic>(c.Id, ReportDiagnostic.Info) }))
            : compilation;
    }

    internal static TextSpan ExpectedSpan(string source)
    {
        int start = source.IndexOf("/*<*/", StringComparison.Ordinal);
        int end = source.IndexOf("/*>*/", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "the case lacks span markers");
        return TextSpan.FromBounds(start + 5, end);
    }

    internal static string RepoRoot([CallerFilePath] string file = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}

