using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Parser;

/// <summary>
/// Turns one <c>[Explainable]</c> class into a <see cref="ModelSpec"/> and diagnostics, one concern per partial file:
/// the declaration (ModelParser.Declaration.cs), inputs and shapes (.Inputs), labels (.Labels), explained layers
/// (.Layers), names (.Names); shape inference and the DeepLIFT rewrite live in their own classes.
/// </summary>
internal static partial class ModelParser
{
    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var model = ParseCore(context, diagnostics, cancellationToken);
        return new ParseResult(model, diagnostics.ToEquatableArray());
    }

    private static ModelSpec? ParseCore(GeneratorAttributeSyntaxContext context, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        var declaration = ReadDeclaration(context, diagnostics, ct);
        if (declaration is null) return null;
        var d = declaration.Value;
        bool ok = d.Ok;
        ct.ThrowIfCancellationRequested();

        var inputs = ReadInputs(d.Type.Name, d.Forward, diagnostics, ref ok);
        var returnShape = ReadReturnShape(d.Forward, diagnostics, ref ok);
        var labels = ReadLabels(context, d.Type.Name, d.Identifier, diagnostics, ref ok);
        ct.ThrowIfCancellationRequested();

        var models = new SemanticModels(context.SemanticModel);
        var inference = ShapeInference.Run(models, d.Type, d.Forward, inputs, returnShape, diagnostics, ct);
        var deepLift = DeepLiftRewriter.Rewrite(models, d.Forward, diagnostics, ct);
        ReportCoverage(context, d, inference, diagnostics, ct);

        long? outputSize = returnShape is not null ? ShapeText.Product(returnShape.Select(x => (long)x))
                         : inference.OutputShape is not null ? ShapeText.Product(inference.OutputShape) : null;
        CheckLabelCount(context, d, labels, outputSize, diagnostics, ref ok);
        var explainable = context.Attributes.FirstOrDefault();
        var methods = ReadMethods(explainable, MethodSet.AllInputMethods | MethodSet.AllLayerMethods);
        var layers = ReadLayers(d.Type, d.Identifier, inference, methods, (explainable is null ? null : AttributeLocation(explainable)) ?? d.Identifier,
            diagnostics, ref ok);

        // A shape mismatch inside forward is reported at its line but does not stop the typed API from being emitted:
        // otherwise every use of the generated types would add a cascade of CS0426 errors that hide the real one.
        if (!ok || diagnostics.Any(x => DiagnosticDescriptors.ById(x.Id) is { DefaultSeverity: DiagnosticSeverity.Error } descriptor &&
                                        descriptor.Category != "ShapGen.Shapes"))
            return null;

        var type = d.Type;
        string? ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        string hint = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", "").Replace('<', '_').Replace('>', '_');
        var outputShape = returnShape is not null ? new ShapeSpec(returnShape) : inference.OutputShape is { } inferredOutput ? new ShapeSpec(inferredOutput) : null;
        int? outputCount = labels.Texts.Count > 0 ? labels.Texts.Count : outputSize is { } size && size <= int.MaxValue ? (int)size : null;
        var labelSpec = labels.Texts.Count == 0 ? null
            : new LabelSpec(labels.EnumType, labels.Texts.Zip(labels.Identifiers, (text, id) => new LabelMember(text, id)).ToEquatableArray());
        return new ModelSpec(ns, d.Containing.ToEquatableArray(), type.Name, hint, inputs.ToEquatableArray(), outputShape, outputCount,
            labelSpec, layers.ToEquatableArray(), deepLift, new MethodSet(methods.Set.Bits & MethodSet.AllInputMethods));
    }

    internal static Location? AttributeLocation(AttributeData attribute) =>
        attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation();
}
