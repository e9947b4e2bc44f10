using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Model;
using ShapGen.Generators.Onnx;

namespace ShapGen.Generators.Parser;

/// <summary>
/// <c>[ExplainableOnnx]</c>: the class and attribute (<see cref="ParseOnnxClass"/>, from syntax and symbols), then the
/// match with the model file's extracted signature (<see cref="MatchOnnx"/>, from plain values only). Labels and
/// names are read as for TorchSharp models (ModelParser.Labels.cs, .Names.cs).
/// </summary>
internal static partial class ModelParser
{
    public static OnnxClassSpec? ParseOnnxClass(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax syntax ||
            syntax.Identifier.IsMissing || string.IsNullOrEmpty(type.Name))
            return null;
        var diagnostics = new List<DiagnosticInfo>();
        var identifier = syntax.Identifier.GetLocation();
        string name = type.Name;
        var attribute = context.Attributes.FirstOrDefault();
        var where = (attribute is null ? null : AttributeLocation(attribute)) ?? identifier;
        bool ok = true;

        string? unsupported = type.TypeKind != TypeKind.Class || syntax is RecordDeclarationSyntax ? "only a class (not a record, struct or interface) can hold a typed ONNX model"
            : type.IsStatic ? "a static class cannot hold the generated types"
            : type.IsGenericType ? "generic classes are not supported"
            : null;
        var containing = new List<ContainingType>();
        for (var parent = syntax.Parent as TypeDeclarationSyntax; unsupported is null && parent is not null; parent = parent.Parent as TypeDeclarationSyntax)
        {
            if (parent.TypeParameterList is not null) unsupported = "it is nested in a generic type";
            if (!parent.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, parent.Identifier.GetLocation(), parent.Identifier.ValueText));
                ok = false;
            }
            string keyword = parent switch
            {
                RecordDeclarationSyntax r => r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
                StructDeclarationSyntax => "struct",
                InterfaceDeclarationSyntax => "interface",
                _ => "class",
            };
            containing.Insert(0, new ContainingType(keyword, parent.Identifier.ValueText));
        }
        if (unsupported is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedDeclaration, identifier, name, unsupported));
            ok = false;
        }
        else if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, identifier, name));
            ok = false;
        }

        string path = attribute is { ConstructorArguments.Length: 1 } && attribute.ConstructorArguments[0].Value is string p ? p : "";
        if (attribute is not null && path.Trim().Length == 0 && !attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedDeclaration, where, name, "[ExplainableOnnx] needs the path of the .onnx file"));
            ok = false;
        }
        string? output = attribute?.NamedArguments.FirstOrDefault(a => a.Key == "Output").Value.Value as string;
        ct.ThrowIfCancellationRequested();
        var labels = ReadLabels(context, name, identifier, diagnostics, ref ok);
        var labelSpec = labels.Texts.Count == 0 ? null
            : new LabelSpec(labels.EnumType, labels.Texts.Zip(labels.Identifiers, (text, id) => new LabelMember(text, id)).ToEquatableArray());

        string? ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        string hint = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", "");
        return new OnnxClassSpec(ns, containing.ToEquatableArray(), name, hint, path, output, labelSpec, LocationInfo.From(where),
            diagnostics.ToEquatableArray(), ok);
    }

    public static OnnxParseResult MatchOnnx(OnnxClassSpec spec, EquatableArray<OnnxSignatureSpec> signatures)
    {
        var diagnostics = new List<DiagnosticInfo>(spec.Diagnostics);
        var model = MatchOnnxCore(spec, signatures, diagnostics);
        return new OnnxParseResult(spec.Ok && diagnostics.All(d => DiagnosticDescriptors.ById(d.Id).DefaultSeverity != DiagnosticSeverity.Error) ? model : null,
            diagnostics.ToEquatableArray());
    }

    private static OnnxModelSpec? MatchOnnxCore(OnnxClassSpec spec, EquatableArray<OnnxSignatureSpec> signatures, List<DiagnosticInfo> diagnostics)
    {
        if (spec.DeclaredPath.Trim().Length == 0) return null;
        var where = spec.AttributeLocation;
        void Report(DiagnosticDescriptor descriptor, params object?[] arguments) =>
            diagnostics.Add(new DiagnosticInfo(descriptor.Id, where,
                arguments.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture) ?? "").ToEquatableArray()));

        string path = OnnxPaths.Normalize(spec.DeclaredPath);
        var signature = signatures.FirstOrDefault(s => s.Path == path);
        if (signature is null)
        {
            Report(DiagnosticDescriptors.OnnxModelNotFound, spec.DeclaredPath, spec.ClassName,
                "no signature was extracted for it: the build reads every *.onnx under the project and each <ShapGenOnnxModel Include=\"…\" /> item " +
                "(the path is relative to the project directory); check the path, or add an item for a file outside the project");
            return null;
        }
        if (signature.ErrorKind is { } kind)
        {
            if (kind == "notfound") Report(DiagnosticDescriptors.OnnxModelNotFound, spec.DeclaredPath, spec.ClassName, signature.Error);
            else Report(DiagnosticDescriptors.NotAnOnnxModel, spec.DeclaredPath, signature.Error);
            return null;
        }

        bool ok = true;
        if (signature.Inputs.Count == 0)
        {
            Report(DiagnosticDescriptors.UnsupportedDeclaration, spec.ClassName, $"the ONNX model '{spec.DeclaredPath}' has no inputs to explain");
            ok = false;
        }
        foreach (var input in signature.Inputs)
            ok &= CheckOnnxValue("input", input, spec, Report);
        if (signature.Outputs.Count == 0)
        {
            Report(DiagnosticDescriptors.UnsupportedDeclaration, spec.ClassName, $"the ONNX model '{spec.DeclaredPath}' has no outputs to explain");
            return null;
        }
        var output = spec.OutputName is { } wanted ? signature.Outputs.FirstOrDefault(o => o.Name == wanted) : signature.Outputs.FirstOrDefault();
        if (output is null)
        {
            Report(DiagnosticDescriptors.OnnxOutputNotFound, spec.ClassName, spec.OutputName, spec.DeclaredPath,
                string.Join(", ", signature.Outputs.Select(o => "'" + o.Name + "'")));
            return null;
        }
        ok &= CheckOnnxValue("output", output, spec, Report);
        if (!ok) return null;

        var outputSample = output.Dims.Skip(1).ToArray();
        long? outputSize = outputSample.All(d => d > 0) ? ShapeText.Product(outputSample) : null;
        if (spec.Labels is { } labels && outputSize is { } size && size != labels.Members.Count)
        {
            Report(DiagnosticDescriptors.LabelCountMismatch, spec.ClassName, labels.Members.Count, size);
            return null;
        }

        var usedParameters = new HashSet<string>(StringComparer.Ordinal);
        var usedProperties = new HashSet<string>(StringComparer.Ordinal);
        var inputs = new List<InputSpec>();
        foreach (var input in signature.Inputs)
        {
            string parameter = ParameterName(input.Name, usedParameters);
            string property = PascalCase(parameter);
            if (!SyntaxFacts.IsValidIdentifier(property) || SyntaxFacts.GetKeywordKind(property) != SyntaxKind.None) property = "Input" + property;
            if (ReservedBatchNames.Contains(property)) property += "Tensor";   // an input named 'input' reads better as InputTensor than as InputInput
            inputs.Add(new InputSpec(parameter, UniqueName(property, usedProperties), new ShapeSpec(input.Dims.Skip(1))));
        }
        var first = inputs[0].Shape;
        bool image = inputs.Count == 1 && first.Count == 3 && first.All(d => d > 0);
        bool channelsLast = image && first[2] <= 4 && first[0] > 4;
        int? outputCount = spec.Labels is { } l ? l.Members.Count : outputSize is { } s && s <= int.MaxValue ? (int)s : null;
        var model = new ModelSpec(spec.Namespace, spec.ContainingTypes, spec.ClassName, spec.HintName, inputs.ToEquatableArray(),
            outputSize is not null ? new ShapeSpec(outputSample) : null, outputCount, spec.Labels, EquatableArray<LayerSpec>.Empty, null);
        return new OnnxModelSpec(model, spec.DeclaredPath, signature.Inputs.Select(i => i.Name).ToEquatableArray(),
            signature.Inputs.Select(i => new ShapeSpec(i.Dims)).ToEquatableArray(), output.Name, new ShapeSpec(output.Dims), channelsLast, image);
    }

    /// <summary>A float tensor with a batch dimension; a dynamic dimension after it is a warning (checked at run time only).</summary>
    private static bool CheckOnnxValue(string kind, OnnxValueSpec value, OnnxClassSpec spec, Action<DiagnosticDescriptor, object?[]> report)
    {
        if (value.ElementType != OnnxElementTypes.Float)
        {
            report(DiagnosticDescriptors.OnnxNotFloat, new object?[] { kind, value.Name, spec.DeclaredPath, OnnxElementTypes.Name(value.ElementType) });
            return false;
        }
        if (!value.HasShape || value.Dims.Count == 0)
        {
            report(DiagnosticDescriptors.UnsupportedDeclaration, new object?[] { spec.ClassName,
                $"ONNX {kind} '{value.Name}' of '{spec.DeclaredPath}' has {(value.HasShape ? "no dimensions" : "no declared shape")}; a batch dimension is needed" });
            return false;
        }
        if (kind == "input" && value.Dims.Skip(1).Any(d => d < 0))
            report(DiagnosticDescriptors.OnnxDynamicDimensions, new object?[] { value.Name, spec.ClassName,
                "[N, " + string.Join(", ", value.Dims.Skip(1).Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]" });
        return true;
    }

    /// <summary>An ONNX name as a C# parameter name: <see cref="ToIdentifier"/> without the verbatim '@', a keyword suffixed with '_', unique.</summary>
    private static string ParameterName(string onnxName, HashSet<string> used)
    {
        string candidate = ToIdentifier(onnxName).TrimStart('@');
        if (SyntaxFacts.GetKeywordKind(candidate) != SyntaxKind.None) candidate += "_";
        string result = candidate;
        for (int i = 2; !used.Add(result); i++) result = candidate + i.ToString(CultureInfo.InvariantCulture);
        return result;
    }
}
