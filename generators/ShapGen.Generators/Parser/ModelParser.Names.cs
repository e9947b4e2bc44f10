using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;

namespace ShapGen.Generators.Parser;

internal static partial class ModelParser
{
    private static readonly HashSet<string> ReservedBatchNames = new(StringComparer.Ordinal)
    {
        "Batch", "Count", "Tensors", "SampleShapes", "InputNames", "Equals", "GetHashCode", "ToString", "GetType",
        "Label", "Input", "Result", "MemberwiseClone", "Finalize", "InputAt", "ToArray", "Item",
    };

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
