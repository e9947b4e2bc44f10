using Microsoft.CodeAnalysis;

namespace ShapGen.Generators.Parser;

/// <summary>Recognises TorchSharp and ShapGen types by name, without needing their assemblies' symbols.</summary>
internal static class Symbols
{
    public const string ExplainableAttribute = "ShapGen.ExplainableAttribute";
    public const string ShapeAttribute = "ShapGen.ShapeAttribute";
    public const string ExplainLayerAttribute = "ShapGen.ExplainLayerAttribute";
    public const string ExplainableOnnxAttribute = "ShapGen.ExplainableOnnxAttribute";

    public static bool IsTorch(ITypeSymbol? type) =>
        type is INamedTypeSymbol { Name: "torch", ContainingType: null, ContainingNamespace: { Name: "TorchSharp", ContainingNamespace.IsGlobalNamespace: true } };

    public static bool IsNn(ITypeSymbol? type) => type is INamedTypeSymbol { Name: "nn" } t && IsTorch(t.ContainingType);

    public static bool IsFunctional(ITypeSymbol? type) => type is INamedTypeSymbol { Name: "functional" } t && IsNn(t.ContainingType);

    public static bool IsTensor(ITypeSymbol? type) => type is INamedTypeSymbol { Name: "Tensor", TypeArguments.Length: 0 } t && IsTorch(t.ContainingType);

    /// <summary>True for TorchSharp's <c>nn.Module</c> (any arity) and its subclasses.</summary>
    public static bool IsModule(ITypeSymbol? type)
    {
        for (var t = type as INamedTypeSymbol; t is not null; t = t.BaseType)
            if (t.Name == "Module" && IsNn(t.ContainingType))
                return true;
        return false;
    }

    /// <summary>The <c>nn.Module&lt;…&gt;</c> base of <paramref name="type"/>, if any.</summary>
    public static INamedTypeSymbol? GenericModuleBase(INamedTypeSymbol type)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
            if (t.Name == "Module" && t.TypeArguments.Length >= 2 && IsNn(t.ContainingType))
                return t;
        return null;
    }

    public static bool HasName(ITypeSymbol? type, string fullName) =>
        type is not null && type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) == "global::" + fullName;
}
