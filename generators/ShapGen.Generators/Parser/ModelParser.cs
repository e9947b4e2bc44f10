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

namespace ShapGen.Generators.Parser;

/// <summary>Turns one <c>[Explainable]</c> class into a <see cref="ModelSpec"/> and diagnostics.</summary>
internal static class ModelParser
{
    private const int MaxInputs = 6;

    private static readonly HashSet<string> ReservedBatchNames = new(StringComparer.Ordinal)
    {
        "Batch", "Count", "Tensors", "SampleShapes", "InputNames", "Equals", "GetHashCode", "ToString", "GetType",
        "Label", "Input", "Result", "MemberwiseClone", "Finalize", "InputAt", "ToArray", "Item",
    };

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var model = ParseCore(context, diagnostics, cancellationToken);
        return new ParseResult(model, diagnostics.ToEquatableArray());
    }

    private static ModelSpec? ParseCore(GeneratorAttributeSyntaxContext context, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax syntax)
            return null;
        var identifier = syntax.Identifier.GetLocation();
        string name = type.Name;

        if (type.TypeKind != TypeKind.Class || syntax is RecordDeclarationSyntax)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedDeclaration, identifier, name,
                "only a class (not a record, struct or interface) can be a TorchSharp module"));
            return null;
        }
        if (type.IsStatic)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedDeclaration, identifier, name, "a static class cannot be a module"));
            return null;
        }
        if (type.IsGenericType)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedDeclaration, identifier, name,
                "generic classes are not supported; derive a non-generic class from it"));
            return null;
        }
        if (string.IsNullOrEmpty(name) || syntax.Identifier.IsMissing)
            return null;
        if (!IsFirstAnnotatedDeclaration(type, syntax, ct))
            return null;

        bool ok = true;
        if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, identifier, name));
            ok = false;
        }
        var containing = new List<ContainingType>();
        for (var parent = syntax.Parent as TypeDeclarationSyntax; parent is not null; parent = parent.Parent as TypeDeclarationSyntax)
        {
            if (!parent.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, parent.Identifier.GetLocation(), parent.Identifier.ValueText));
                ok = false;
            }
            if (parent.TypeParameterList is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedDeclaration, identifier, name,
                    "it is nested in a generic type"));
                return null;
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

        var moduleBase = Symbols.GenericModuleBase(type);
        if (moduleBase is null || moduleBase.TypeArguments.Length - 1 > MaxInputs || !Symbols.IsTensor(moduleBase.TypeArguments[moduleBase.TypeArguments.Length - 1]))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotAModule, identifier, name));
            return null;
        }
        int inputCount = moduleBase.TypeArguments.Length - 1;

        var forward = FindForward(type, inputCount);
        if (forward is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedDeclaration, identifier, name,
                $"it declares no 'forward' override taking {inputCount.ToString(CultureInfo.InvariantCulture)} tensor(s)"));
            return null;
        }
        ct.ThrowIfCancellationRequested();

        // Inputs.
        var inputs = new List<InputSpec>();
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var parameter in forward.Parameters)
        {
            var location = parameter.Locations.FirstOrDefault();
            if (!Symbols.IsTensor(parameter.Type))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InputNotTensor, location, parameter.Name, name,
                    parameter.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));
                ok = false;
                continue;
            }
            var shapeAttribute = parameter.GetAttributes().FirstOrDefault(a => Symbols.HasName(a.AttributeClass, Symbols.ShapeAttribute));
            if (shapeAttribute is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingShape, location, parameter.Name, name));
                ok = false;
                continue;
            }
            var shape = ReadShape(shapeAttribute, parameter.Name, diagnostics);
            if (shape is null)
            {
                ok = false;
                continue;
            }
            string property = UniqueName(PascalCase(parameter.Name), usedNames);
            inputs.Add(new InputSpec(parameter.Name, property, new ShapeSpec(shape)));
        }

        // Declared output shape.
        int[]? returnShape = null;
        var returnAttribute = forward.GetReturnTypeAttributes().FirstOrDefault(a => Symbols.HasName(a.AttributeClass, Symbols.ShapeAttribute));
        if (returnAttribute is not null)
        {
            returnShape = ReadShape(returnAttribute, "forward's return value", diagnostics);
            if (returnShape is null) ok = false;
        }

        // Labels.
        var attribute = context.Attributes.FirstOrDefault();
        var labelTexts = new List<string>();
        string? labelsEnum = null;
        bool labelsGiven = false;
        if (attribute is not null)
        {
            foreach (var argument in attribute.NamedArguments)
            {
                var value = argument.Value;
                if (argument.Key == "Labels" && value.Kind == TypedConstantKind.Array && !value.IsNull)
                {
                    labelsGiven = true;
                    foreach (var item in value.Values)
                    {
                        if (item.Value is string s) labelTexts.Add(s);
                        else
                        {
                            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, AttributeLocation(attribute) ?? identifier, name, "a label is null or not a constant string"));
                            ok = false;
                        }
                    }
                }
                else if (argument.Key is "Labels" or "LabelsEnum" && value.Kind == TypedConstantKind.Type && value.Value is INamedTypeSymbol enumType)
                {
                    if (enumType.TypeKind != TypeKind.Enum)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, AttributeLocation(attribute) ?? identifier, name,
                            $"'{enumType.ToDisplayString()}' is not an enum"));
                        ok = false;
                        continue;
                    }
                    if (labelsEnum is not null || labelsGiven)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, AttributeLocation(attribute) ?? identifier, name, "labels are given twice; give either strings or one enum"));
                        ok = false;
                        continue;
                    }
                    labelsEnum = enumType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                    labelTexts.AddRange(enumType.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue).Select(f => f.Name));
                }
                else if (argument.Key == "Labels" && !value.IsNull && value.Kind != TypedConstantKind.Error)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, AttributeLocation(attribute) ?? identifier, name,
                        "Labels must be a string array or typeof(an enum)"));
                    ok = false;
                }
            }
            if (labelsGiven && labelsEnum is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, AttributeLocation(attribute) ?? identifier, name, "labels are given twice; give either strings or one enum"));
                ok = false;
            }
        }
        var labelIdentifiers = new List<string>();
        if (labelsEnum is null)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var text in labelTexts)
            {
                string id = ToIdentifier(text);
                if (!seen.Add(id))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, (attribute is null ? null : AttributeLocation(attribute)) ?? identifier, name,
                        $"two labels give the same enum member '{id}'"));
                    ok = false;
                }
                labelIdentifiers.Add(id);
            }
        }
        else
        {
            labelIdentifiers.AddRange(labelTexts);
        }
        ct.ThrowIfCancellationRequested();

        // Shape inference through forward, layer paths, DeepLIFT rewrite.
        var inference = ShapeInference.Run(new SemanticModels(context.SemanticModel), type, forward, inputs, returnShape, diagnostics, ct);

        long? outputSize = null;
        if (returnShape is not null) outputSize = Product(returnShape);
        else if (inference.OutputShape is not null) outputSize = Product(inference.OutputShape);
        if (labelTexts.Count > 0 && outputSize is not null && outputSize != labelTexts.Count)
        {
            var where = (attribute is null ? null : AttributeLocation(attribute)) ?? identifier;
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LabelCountMismatch, where, name,
                labelTexts.Count.ToString(CultureInfo.InvariantCulture), outputSize.Value.ToString(CultureInfo.InvariantCulture)));
            ok = false;
        }

        var layers = new List<LayerSpec>();
        var layerNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layerAttribute in type.GetAttributes().Where(a => Symbols.HasName(a.AttributeClass, Symbols.ExplainLayerAttribute)))
        {
            if (layerAttribute.ConstructorArguments.Length != 1 || layerAttribute.ConstructorArguments[0].Value is not string path)
                continue;
            string? className = null;
            int[]? declared = null;
            foreach (var argument in layerAttribute.NamedArguments)
            {
                if (argument.Key == "Name" && argument.Value.Value is string s && SyntaxFacts.IsValidIdentifier(s)) className = s;
                if (argument.Key == "Shape" && argument.Value.Kind == TypedConstantKind.Array && !argument.Value.IsNull)
                {
                    var dims = argument.Value.Values.Select(v => v.Value is int i ? i : 0).ToArray();
                    if (dims.Any(d => d <= 0))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDimension, AttributeLocation(layerAttribute) ?? identifier,
                            $"[ExplainLayer(\"{path}\")]", "every dimension must be a positive constant"));
                        ok = false;
                    }
                    else declared = dims;
                }
            }
            var knownPaths = inference.ModulePaths;
            if (knownPaths is not null && !knownPaths.Contains(path))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownLayer, AttributeLocation(layerAttribute) ?? identifier, path, name,
                    knownPaths.Count == 0 ? "(none)" : string.Join(", ", knownPaths.OrderBy(p => p, StringComparer.Ordinal).Take(30))));
                ok = false;
                continue;
            }
            className ??= PascalCase(new string(path.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_').ToArray()).Replace("_", " ")).Replace(" ", "") + "Explainer";
            if (!SyntaxFacts.IsValidIdentifier(className)) className = "Layer" + layers.Count.ToString(CultureInfo.InvariantCulture) + "Explainer";
            className = UniqueName(className, layerNames);
            long[]? shape = null;
            string inferencePath = path.StartsWith("_", StringComparison.Ordinal) ? path.Substring(1) : path;
            if (inference.LayerInputs.TryGetValue(inferencePath, out var inferredShape) && inferredShape is not null)
            {
                shape = inferredShape;
            }
            else if (declared is not null)
            {
                shape = declared.Select(d => (long)d).ToArray();
            }
            layers.Add(new LayerSpec(path, className, shape is null ? null : new ShapeSpec(shape)));
        }

        // A shape mismatch inside forward is reported at its line but does not stop the typed API from being emitted:
        // otherwise every use of the generated types would add a cascade of CS0426 errors that hide the real one.
        if (!ok || diagnostics.Any(d => DiagnosticDescriptors.ById(d.Id) is { DefaultSeverity: DiagnosticSeverity.Error } descriptor &&
                                        descriptor.Category != "ShapGen.Shapes"))
            return null;

        string? ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        string fqn = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        string hint = fqn.Replace("global::", "").Replace('<', '_').Replace('>', '_');
        var outputShape = returnShape is not null ? new ShapeSpec(returnShape) : inference.OutputShape is { } inferredOutput ? new ShapeSpec(inferredOutput) : null;
        int? outputCount = labelTexts.Count > 0 ? labelTexts.Count : outputSize is { } size && size <= int.MaxValue ? (int)size : null;
        var labels = labelTexts.Count == 0 ? null
            : new LabelSpec(labelsEnum, labelTexts.Zip(labelIdentifiers, (text, id) => new LabelMember(text, id)).ToEquatableArray());
        return new ModelSpec(ns, containing.ToEquatableArray(), name, hint, inputs.ToEquatableArray(), outputShape, outputCount,
            labels, layers.ToEquatableArray(), inference.DeepLiftForward);
    }

    /// <summary>A class annotated on two partial declarations (itself a compile error) is handled once.</summary>
    private static bool IsFirstAnnotatedDeclaration(INamedTypeSymbol type, TypeDeclarationSyntax syntax, CancellationToken ct)
    {
        var annotated = type.GetAttributes()
            .Where(a => Symbols.HasName(a.AttributeClass, Symbols.ExplainableAttribute))
            .Select(a => a.ApplicationSyntaxReference?.GetSyntax(ct).FirstAncestorOrSelf<TypeDeclarationSyntax>())
            .Where(d => d is not null)
            .OrderBy(d => d!.SyntaxTree.FilePath, StringComparer.Ordinal)
            .ThenBy(d => d!.SpanStart)
            .FirstOrDefault();
        return annotated is null || annotated == syntax;
    }

    private static IMethodSymbol? FindForward(INamedTypeSymbol type, int inputCount) =>
        type.GetMembers("forward").OfType<IMethodSymbol>()
            .FirstOrDefault(m => !m.IsStatic && m.Parameters.Length == inputCount && m.MethodKind == MethodKind.Ordinary);

    private static int[]? ReadShape(AttributeData attribute, string what, List<DiagnosticInfo> diagnostics)
    {
        var location = AttributeLocation(attribute);
        if (attribute.ConstructorArguments.Length != 1)
            return null;
        var argument = attribute.ConstructorArguments[0];
        if (argument.Kind != TypedConstantKind.Array || argument.IsNull)
            return null;
        var dims = new List<int>();
        long product = 1;
        foreach (var value in argument.Values)
        {
            if (value.Value is not int d)
                return null;
            if (d <= 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDimension, location, what,
                    $"{d.ToString(CultureInfo.InvariantCulture)} (every dimension must be at least 1)"));
                return null;
            }
            product *= d;
            if (product > (1L << 40))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDimension, location, what,
                    "the per-sample size exceeds 2^40 elements"));
                return null;
            }
            dims.Add(d);
        }
        return dims.ToArray();
    }

    internal static Location? AttributeLocation(AttributeData attribute) =>
        attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation();

    private static long Product(IEnumerable<int> dims) => dims.Aggregate(1L, (a, d) => a * d);

    private static long Product(IEnumerable<long> dims) => dims.Aggregate(1L, (a, d) => a * d);

    internal static string PascalCase(string name)
    {
        string trimmed = name.TrimStart('_', '@');
        if (trimmed.Length == 0) return "Value";
        return char.ToUpperInvariant(trimmed[0]) + trimmed.Substring(1);
    }

    private static string UniqueName(string candidate, HashSet<string> used)
    {
        if (ReservedBatchNames.Contains(candidate)) candidate += "Input";
        string result = candidate;
        for (int i = 2; !used.Add(result); i++) result = candidate + i.ToString(CultureInfo.InvariantCulture);
        return result;
    }

    /// <summary>A label as an enum member name: invalid characters become '_', a leading digit gets a '_' prefix.</summary>
    internal static string ToIdentifier(string text)
    {
        var chars = text.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_').ToArray();
        string id = new(chars);
        if (id.Length == 0 || !(char.IsLetter(id[0]) || id[0] == '_')) id = "_" + id;
        if (SyntaxFacts.GetKeywordKind(id) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(id) != SyntaxKind.None) id = "@" + id;
        if (id == "@value__" || id == "value__") id = "_value__";
        return id;
    }
}
