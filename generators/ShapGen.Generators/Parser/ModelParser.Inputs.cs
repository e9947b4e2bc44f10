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
    private static List<InputSpec> ReadInputs(string name, IMethodSymbol forward, List<DiagnosticInfo> diagnostics, ref bool ok)
    {
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
        return inputs;
    }

    private static int[]? ReadReturnShape(IMethodSymbol forward, List<DiagnosticInfo> diagnostics, ref bool ok)
    {
        var returnAttribute = forward.GetReturnTypeAttributes().FirstOrDefault(a => Symbols.HasName(a.AttributeClass, Symbols.ShapeAttribute));
        if (returnAttribute is null) return null;
        var shape = ReadShape(returnAttribute, "forward's return value", diagnostics);
        if (shape is null) ok = false;
        return shape;
    }

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
}
