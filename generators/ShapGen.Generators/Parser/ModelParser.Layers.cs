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
    /// <summary>One spec per <c>[ExplainLayer]</c>: its path checked against the module tree, its input shape inferred or declared.</summary>
    private static List<LayerSpec> ReadLayers(INamedTypeSymbol type, Location identifier, InferenceResult inference, List<DiagnosticInfo> diagnostics, ref bool ok)
    {
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
            layers.Add(new LayerSpec(path, className, shape is null ? null : new ShapeSpec(shape)));
        }
        return layers;
    }
}
