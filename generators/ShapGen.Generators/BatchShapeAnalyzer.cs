using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Parser;

namespace ShapGen.Generators;

/// <summary>
/// Checks tensors whose shape is a compile-time constant (<c>torch.zeros(3, 1, 28, 28)</c>) where they are passed to a
/// parameter carrying <c>[Shape]</c> — the generated <c>Batch</c> constructors — against the declared per-sample shape.
/// The tensor may be created in the argument or in a local that is assigned once in the same method.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BatchShapeAnalyzer : DiagnosticAnalyzer
{
    private static readonly HashSet<string> Factories = new() { "zeros", "ones", "rand", "randn", "empty" };

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.BatchShapeMismatch);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterOperationAction(Analyze, OperationKind.ObjectCreation, OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context)
    {
        var arguments = context.Operation switch
        {
            IObjectCreationOperation creation => creation.Arguments,
            IInvocationOperation invocation => invocation.Arguments,
            _ => ImmutableArray<IArgumentOperation>.Empty,
        };
        foreach (var argument in arguments)
        {
            if (argument.Parameter is null || argument.ArgumentKind != ArgumentKind.Explicit) continue;
            var shapeAttribute = argument.Parameter.GetAttributes().FirstOrDefault(a => Symbols.HasName(a.AttributeClass, Symbols.ShapeAttribute));
            if (shapeAttribute is null || shapeAttribute.ConstructorArguments.Length != 1 || shapeAttribute.ConstructorArguments[0].Kind != TypedConstantKind.Array) continue;
            var declared = shapeAttribute.ConstructorArguments[0].Values.Select(v => v.Value is int i ? (long)i : -1).ToArray();
            if (declared.Any(d => d <= 0)) continue;
            var full = ConstantShape(Source(argument.Value));
            if (full is null || full.Length == 0) continue;
            var perSample = full.Skip(1).ToArray();
            if (perSample.SequenceEqual(declared)) continue;
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.BatchShapeMismatch, argument.Syntax.GetLocation(),
                argument.Parameter.Name, ShapeText.Sample(perSample), ShapeText.Sample(full), ShapeText.Sample(declared)));
        }
    }

    /// <summary>For a local assigned only where it is declared (in the same method), its initializer; else the value itself.</summary>
    private static IOperation Source(IOperation value)
    {
        if (Operations.Unwrap(value) is not ILocalReferenceOperation reference) return value;
        var root = value;
        while (root.Parent is not null) root = root.Parent;
        IOperation? initializer = null;
        foreach (var node in root.Descendants())
        {
            switch (node)
            {
                case IVariableDeclaratorOperation declarator when SymbolEqualityComparer.Default.Equals(declarator.Symbol, reference.Local):
                    initializer = declarator.Initializer?.Value;
                    break;
                case IAssignmentOperation { Target: ILocalReferenceOperation target } when SymbolEqualityComparer.Default.Equals(target.Local, reference.Local):
                case IArgumentOperation { Parameter.RefKind: not RefKind.None, Value: ILocalReferenceOperation byRef } when SymbolEqualityComparer.Default.Equals(byRef.Local, reference.Local):
                    return value;
            }
        }
        return initializer ?? value;
    }

    /// <summary>The full shape of <c>torch.zeros/ones/rand/randn/empty(...)</c> with constant sizes, else null.</summary>
    private static long[]? ConstantShape(IOperation value)
    {
        if (Operations.Unwrap(value) is not IInvocationOperation call || !Factories.Contains(call.TargetMethod.Name) ||
            !Symbols.IsTorch(call.TargetMethod.ContainingType))
            return null;
        var dims = new List<long>();
        foreach (var argument in call.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? int.MaxValue))
        {
            var parameter = argument.Parameter;
            if (parameter is null) return null;
            if (parameter.Type.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int64)
            {
                if (Operations.ConstantLong(argument.Value) is not { } d || d < 0) return null;
                dims.Add(d);
            }
            else if (parameter.Type is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_Int64 or SpecialType.System_Int32 })
            {
                if (Operations.Unwrap(argument.Value) is not IArrayCreationOperation { Initializer: { } init }) return null;
                foreach (var element in init.ElementValues)
                {
                    if (Operations.ConstantLong(element) is not { } d || d < 0) return null;
                    dims.Add(d);
                }
            }
            else if (parameter.Ordinal == 0)
                return null;
            else
                break;
        }
        return dims.Count == 0 ? null : dims.ToArray();
    }
}
