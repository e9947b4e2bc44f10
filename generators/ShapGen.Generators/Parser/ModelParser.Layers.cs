using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Parser;

internal static partial class ModelParser
{
    /// <summary>
    /// One spec per <c>[ExplainLayer]</c>: its path checked against the module tree, its input and output shapes
    /// inferred or declared, the layer methods that apply to it.
    /// </summary>
    private static List<LayerSpec> ReadLayers(INamedTypeSymbol type, Location identifier, InferenceResult inference, RequestedMethods classMethods,
                                              Location classAttribute, List<DiagnosticInfo> diagnostics, ref bool ok)
    {
        var layers = new List<LayerSpec>();
        var layerNames = new HashSet<string>(StringComparer.Ordinal);
        var layerAttributes = type.GetAttributes().Where(a => Symbols.HasName(a.AttributeClass, Symbols.ExplainLayerAttribute)).ToList();
        CheckLayerMethodsHaveLayers(type.Name, classMethods, layerAttributes.Count, classAttribute, diagnostics);
        foreach (var layerAttribute in layerAttributes)
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
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownLayer, AttributeLocation(layerAttribute) ?? identifier, path, type.Name,
                    knownPaths.Count == 0 ? "(none)" : string.Join(", ", knownPaths.OrderBy(p => p, StringComparer.Ordinal).Take(30))));
                ok = false;
                continue;
            }
            className ??= PascalCase(new string(path.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_').ToArray()).Replace("_", " ")).Replace(" ", "") + "Explainer";
            if (!SyntaxFacts.IsValidIdentifier(className)) className = "Layer" + layers.Count.ToString(CultureInfo.InvariantCulture) + "Explainer";
            className = UniqueName(className, layerNames);
            long[]? shape = inference.LayerInputs.TryGetValue(path, out var inferredShape) && inferredShape is not null
                ? inferredShape
                : declared?.Select(d => (long)d).ToArray();
            if (inferredShape is not null && declared is not null && !inferredShape.SequenceEqual(declared.Select(d => (long)d)))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ShapeMismatch, AttributeLocation(layerAttribute) ?? identifier,
                    $"Module '{path}'", $"its declared [ExplainLayer] Shape {ShapeText.Sample(declared.Select(d => (long)d))}",
                    $"per-sample {ShapeText.Sample(inferredShape)} from forward"));
            var output = inference.LayerOutputs.TryGetValue(path, out var inferredOutput) ? inferredOutput : null;
            var methods = LayerMethods(layerAttribute, path, output, classMethods, AttributeLocation(layerAttribute) ?? identifier, diagnostics);
            string stem = className.EndsWith("Explainer", StringComparison.Ordinal) && className.Length > "Explainer".Length
                ? className.Substring(0, className.Length - "Explainer".Length)
                : className;
            layers.Add(new LayerSpec(path, className, stem, shape is null ? null : new ShapeSpec(shape), output is null ? null : new ShapeSpec(output), methods));
        }
        return layers;
    }
}
