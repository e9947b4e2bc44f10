using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using ShapGen.Generators;

namespace ShapGen.Generators.Tests.Infrastructure;

/// <summary>Compiles user code in memory with the ShapGen generator and analyzers.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.CSharp12);

    private static readonly Lazy<MetadataReference[]> LazyReferences = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Where(p => !Path.GetFileName(p).StartsWith("ShapGen.Generators", StringComparison.Ordinal))
            .ToList();
        foreach (var extra in new[] { typeof(TorchSharp.torch).Assembly.Location, typeof(ShapGen.ExplainableAttribute).Assembly.Location,
                                      typeof(ShapGen.OnnxModel).Assembly.Location, typeof(Microsoft.ML.OnnxRuntime.SessionOptions).Assembly.Location })
            if (!paths.Contains(extra)) paths.Add(extra);
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    });

    public static IReadOnlyList<MetadataReference> References => LazyReferences.Value;

    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CreateCompilation(sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"/src/File{i}.cs")).ToArray());

    public static CSharpCompilation CreateCompilation(SyntaxTree[] trees)
    {
        return CSharpCompilation.Create("UserModels", trees, References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                optimizationLevel: OptimizationLevel.Release, warningLevel: 9999));   // every warning wave, as the SDK compiles
    }

    /// <summary>A driver with step tracking; <paramref name="additionalTexts"/> are the build's additional files (e.g. extracted ONNX signatures).</summary>
    public static GeneratorDriver CreateDriver(IEnumerable<AdditionalText>? additionalTexts = null) =>
        CSharpGeneratorDriver.Create(new[] { new ShapGenGenerator().AsSourceGenerator() }, additionalTexts, ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Run(params string[] sources) => Run(CreateCompilation(sources));

    /// <summary>Runs the generator once, then checks that a re-run on a cloned compilation comes out of the cache.</summary>
    public static GeneratorRun Run(CSharpCompilation compilation, IEnumerable<AdditionalText>? additionalTexts = null)
    {
        var driver = CreateDriver(additionalTexts).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var driverDiagnostics);
        Caching.AssertRerunIsCached(driver, compilation);
        return new GeneratorRun(driver, (CSharpCompilation)output, driverDiagnostics);
    }
}

/// <summary>An additional file held in memory.</summary>
internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    public override string Path { get; } = path;

    public override Microsoft.CodeAnalysis.Text.SourceText GetText(System.Threading.CancellationToken cancellationToken = default) =>
        Microsoft.CodeAnalysis.Text.SourceText.From(text, System.Text.Encoding.UTF8);
}

/// <summary>The outcome of one generator run.</summary>
internal sealed record GeneratorRun(GeneratorDriver Driver, CSharpCompilation Output, ImmutableArray<Diagnostic> DriverDiagnostics)
{
    public GeneratorDriverRunResult Result => Driver.GetRunResult();

    /// <summary>Diagnostics the generator reported.</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics => Result.Diagnostics;

    /// <summary>Generated files by hint name.</summary>
    public IReadOnlyDictionary<string, string> Sources =>
        Result.Results.SelectMany(r => r.GeneratedSources).ToDictionary(s => s.HintName, s => s.SourceText.ToString());

    /// <summary>Compiler diagnostics of the output compilation (warnings and errors) plus the analyzers' diagnostics.</summary>
    public ImmutableArray<Diagnostic> AllDiagnostics(bool withAnalyzers = true)
    {
        var compiler = Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning);
        if (!withAnalyzers) return compiler.Concat(GeneratorDiagnostics).ToImmutableArray();
        var analyzers = Output.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new BatchShapeAnalyzer()))
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        return compiler.Concat(GeneratorDiagnostics).Concat(analyzers).ToImmutableArray();
    }

    /// <summary>Errors and warnings located in generated files.</summary>
    public IEnumerable<Diagnostic> GeneratedCodeProblems =>
        Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree is { } t &&
                                           t.FilePath.Contains("ShapGen.Generators", StringComparison.Ordinal));
}
