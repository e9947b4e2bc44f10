using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Parser;

internal static partial class ModelParser
{
    /// <summary>The labels as written (strings or enum member names), their enum member names, and the user's enum if any.</summary>
    private sealed record Labels(List<string> Texts, List<string> Identifiers, string? EnumType, AttributeData? Attribute);

    private static Labels ReadLabels(GeneratorAttributeSyntaxContext context, string name, Location identifier, List<DiagnosticInfo> diagnostics, ref bool ok)
    {
        var attribute = context.Attributes.FirstOrDefault();
        var texts = new List<string>();
        string? labelsEnum = null;
        bool labelsGiven = false;
        var where = (attribute is null ? null : AttributeLocation(attribute)) ?? identifier;
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
                        if (item.Value is string s) texts.Add(s);
                        else
                        {
                            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, where, name, "a label is null or not a constant string"));
                            ok = false;
                        }
                    }
                }
                else if (argument.Key is "Labels" or "LabelsEnum" && value.Kind == TypedConstantKind.Type && value.Value is INamedTypeSymbol enumType)
                {
                    if (enumType.TypeKind != TypeKind.Enum)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, where, name, $"'{enumType.ToDisplayString()}' is not an enum"));
                        ok = false;
                        continue;
                    }
                    if (labelsEnum is not null || labelsGiven)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, where, name, "labels are given twice; give either strings or one enum"));
                        ok = false;
                        continue;
                    }
                    labelsEnum = enumType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                    texts.AddRange(enumType.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue).Select(f => f.Name));
                }
                else if (argument.Key == "Labels" && !value.IsNull && value.Kind != TypedConstantKind.Error)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, where, name, "Labels must be a string array or typeof(an enum)"));
                    ok = false;
                }
            }
            if (labelsGiven && labelsEnum is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, where, name, "labels are given twice; give either strings or one enum"));
                ok = false;
            }
        }
        var identifiers = new List<string>();
        if (labelsEnum is null)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var text in texts)
            {
                string id = ToIdentifier(text);
                if (!seen.Add(id))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLabels, where, name, $"two labels give the same enum member '{id}'"));
                    ok = false;
                }
                identifiers.Add(id);
            }
        }
        else identifiers.AddRange(texts);
        return new Labels(texts, identifiers, labelsEnum, attribute);
    }

    private static void CheckLabelCount(GeneratorAttributeSyntaxContext context, Declaration d, Labels labels, long? outputSize, List<DiagnosticInfo> diagnostics, ref bool ok)
    {
        if (labels.Texts.Count == 0 || outputSize is null || outputSize == labels.Texts.Count) return;
        var where = (labels.Attribute is null ? null : AttributeLocation(labels.Attribute)) ?? d.Identifier;
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LabelCountMismatch, where, d.Type.Name,
            labels.Texts.Count.ToString(CultureInfo.InvariantCulture), outputSize.Value.ToString(CultureInfo.InvariantCulture)));
        ok = false;
    }
}
