using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Parser;

internal static partial class ModelParser
{
    /// <summary>
    /// SHAPGEN015 (off by default): how far shapes were followed through forward. It is produced only when the user
    /// enabled it (.editorconfig, .globalconfig or the compilation's options), so it costs nothing otherwise.
    /// </summary>
    private static void ReportCoverage(GeneratorAttributeSyntaxContext context, Declaration d, InferenceResult inference, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        if (!IsEnabled(context.SemanticModel.Compilation, d.Syntax.SyntaxTree, DiagnosticDescriptors.ShapeCoverage.Id, ct)) return;
        var coverage = inference.Coverage;
        string reached = coverage is null || coverage.LastLine == 0 ? "nowhere" : "line " + ShapeText.N(coverage.LastLine);
        string outcome = inference.OutputShape is { } output
            ? "the output is " + ShapeText.Sample(output)
            : coverage?.StopReason is { } reason ? $"inference stops at line {ShapeText.N(coverage.StopLine ?? 0)}: {reason}" : "the output shape is not known";
        var location = d.Forward.Locations.Length > 0 ? d.Forward.Locations[0] : d.Identifier;
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ShapeCoverage, location, d.Type.Name, reached, outcome));
    }

    private static bool IsEnabled(Compilation compilation, SyntaxTree tree, string id, CancellationToken ct)
    {
        if (compilation.Options.SpecificDiagnosticOptions.TryGetValue(id, out var report) && report != ReportDiagnostic.Suppress && report != ReportDiagnostic.Default)
            return true;
        var provider = compilation.Options.SyntaxTreeOptionsProvider;
        if (provider is null) return false;
        if (provider.TryGetDiagnosticValue(tree, id, ct, out var treeReport)) return treeReport != ReportDiagnostic.Suppress;
        return provider.TryGetGlobalDiagnosticValue(id, ct, out var globalReport) && globalReport != ReportDiagnostic.Suppress;
    }
}
