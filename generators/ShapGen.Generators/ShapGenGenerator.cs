using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using ShapGen.Generators.Emitter;
using ShapGen.Generators.Model;
using ShapGen.Generators.Onnx;
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

    /// <summary>Tracking names of the typed ONNX pipeline steps (used by the ONNX caching tests).</summary>
    public static class OnnxTrackingNames
    {
        /// <summary>Parsing each <c>[ExplainableOnnx]</c> class.</summary>
        public const string Parse = "ShapGen.Onnx.Parse";

        /// <summary>The extracted ONNX signatures among the additional files.</summary>
        public const string Signatures = "ShapGen.Onnx.Signatures";

        /// <summary>Each class matched with its model's signature.</summary>
        public const string Match = "ShapGen.Onnx.Match";

        /// <summary>The typed ONNX models to emit.</summary>
        public const string Models = "ShapGen.Onnx.Models";

        /// <summary>Their diagnostics.</summary>
        public const string Diagnostics = "ShapGen.Onnx.Diagnostics";
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

        InitializeOnnx(context);

        // Diagnostics are re-anchored to the compilation's trees so that #pragma warning disable applies to them.
        context.RegisterSourceOutput(diagnostics.Combine(context.CompilationProvider), static (spc, pair) =>
        {
            var (items, compilation) = pair;
            foreach (var item in items)
                spc.ReportDiagnostic(ToDiagnostic(item, compilation));
        });
    }

    /// <summary>
    /// Typed ONNX models: each <c>[ExplainableOnnx]</c> class is matched with the signature text the build extracted
    /// from its model file (an additional file; the generator reads no files itself). Replacing one .onnx changes one
    /// signature, so only that class's output changes; an unrelated edit leaves every step cached.
    /// </summary>
    private static void InitializeOnnx(IncrementalGeneratorInitializationContext context)
    {
        var classes = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Symbols.ExplainableOnnxAttribute,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => ModelParser.ParseOnnxClass(ctx, ct))
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(OnnxTrackingNames.Parse);

        var signatures = context.AdditionalTextsProvider
            .Where(static text => text.Path.EndsWith(OnnxSignatureSpec.Extension, System.StringComparison.OrdinalIgnoreCase))
            .Select(static (text, ct) => OnnxSignatureSpec.Parse(text.GetText(ct)?.ToString()))
            .Where(static s => s is not null)
            .Select(static (s, _) => s!)
            .Collect()
            .Select(static (all, _) => all.ToEquatableArray())
            .WithTrackingName(OnnxTrackingNames.Signatures);

        var matched = classes.Combine(signatures)
            .Select(static (pair, _) => ModelParser.MatchOnnx(pair.Left, pair.Right))
            .WithTrackingName(OnnxTrackingNames.Match);

        var models = matched
            .Select(static (result, _) => result.Model)
            .Where(static model => model is not null)
            .Select(static (model, _) => model!)
            .WithTrackingName(OnnxTrackingNames.Models);

        var diagnostics = matched
            .Select(static (result, _) => result.Diagnostics)
            .Where(static d => d.Count > 0)
            .WithTrackingName(OnnxTrackingNames.Diagnostics);

        context.RegisterSourceOutput(models, static (spc, model) =>
            spc.AddSource(model.Model.HintName + ".ShapGen.Onnx.g.cs", SourceText.From(ModelEmitter.EmitOnnx(model), System.Text.Encoding.UTF8)));

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
