using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using ShapGen.Generators.Emitter;
using ShapGen.Generators.Model;
using ShapGen.Generators.Parser;

namespace ShapGen.Generators;

/// <summary>Emits typed explainers for classes annotated with <c>[ShapGen.Explainable]</c>.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class ShapGenGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (used by the caching tests).</summary>
    public static class TrackingNames
    {
        /// <summary>Parsing each annotated class.</summary>
        public const string Parse = "ShapGen.Parse";

        /// <summary>The models to emit.</summary>
        public const string Models = "ShapGen.Models";

        /// <summary>The diagnostics to report.</summary>
        public const string Diagnostics = "ShapGen.Diagnostics";
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Symbols.ExplainableAttribute,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => ModelParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Parse);

        var models = parsed
            .Select(static (result, _) => result.Model)
            .Where(static model => model is not null)
            .Select(static (model, _) => model!)
            .WithTrackingName(TrackingNames.Models);

        var diagnostics = parsed
            .Select(static (result, _) => result.Diagnostics)
            .Where(static d => d.Count > 0)
            .WithTrackingName(TrackingNames.Diagnostics);

        context.RegisterSourceOutput(models, static (spc, model) =>
        {
            spc.AddSource(model.HintName + ".ShapGen.g.cs", SourceText.From(ModelEmitter.Emit(model), System.Text.Encoding.UTF8));
            if (ModelEmitter.EmitDeepLiftFile(model) is { } deep)
                spc.AddSource(model.HintName + ".ShapGen.DeepLift.g.cs", SourceText.From(deep, System.Text.Encoding.UTF8));
        });

        // Diagnostics are re-anchored to the compilation's trees so that #pragma warning disable applies to them.
        context.RegisterSourceOutput(diagnostics.Combine(context.CompilationProvider), static (spc, pair) =>
        {
            var (items, compilation) = pair;
            foreach (var item in items)
                spc.ReportDiagnostic(ToDiagnostic(item, compilation));
        });
    }

    private static Diagnostic ToDiagnostic(DiagnosticInfo info, Compilation compilation)
    {
        var descriptor = Diagnostics.DiagnosticDescriptors.ById(info.Id);
        Location location = Location.None;
        if (info.Location is { } l)
        {
            var tree = compilation.SyntaxTrees.FirstOrDefault(t => t.FilePath == l.FilePath);
            location = tree is not null && l.Span.End <= tree.Length ? Location.Create(tree, l.Span) : l.ToLocation();
        }
        return Diagnostic.Create(descriptor, location, info.Arguments.Cast<object?>().ToArray());
    }
}
