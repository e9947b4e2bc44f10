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

internal static partial class ModelParser
{
    private const int MaxInputs = 6;

    /// <summary>The annotated class as far as the declaration goes: kind, partial, module base, forward.</summary>
    private readonly record struct Declaration(
        INamedTypeSymbol Type, TypeDeclarationSyntax Syntax, Location Identifier, IMethodSymbol Forward, List<ContainingType> Containing, bool Ok);

    private static Declaration? ReadDeclaration(GeneratorAttributeSyntaxContext context, List<DiagnosticInfo> diagnostics, CancellationToken ct)
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

        var forward = type.GetMembers("forward").OfType<IMethodSymbol>()
            .FirstOrDefault(m => !m.IsStatic && m.Parameters.Length == inputCount && m.MethodKind == MethodKind.Ordinary);
        if (forward is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedDeclaration, identifier, name,
                $"it declares no 'forward' override taking {inputCount.ToString(CultureInfo.InvariantCulture)} tensor(s)"));
            return null;
        }
        return new Declaration(type, syntax, identifier, forward, containing, ok);
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
}
