using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Parser;

/// <summary>What shape inference learned: output and layer-input shapes, module paths, how far it got.</summary>
internal sealed class InferenceResult
{
    public long[]? OutputShape { get; set; }

    /// <summary>Known module paths (named_modules spelling), or null when the module tree cannot be known.</summary>
    public HashSet<string>? ModulePaths { get; set; }

    /// <summary>Per-sample input shape of each module path reached by forward (null value: reached with an unknown or differing shape).</summary>
    public Dictionary<string, long[]?> LayerInputs { get; } = new(StringComparer.Ordinal);

    /// <summary>Per-sample output shape of each module path reached (null value: unknown, differing, or not one tensor).</summary>
    public Dictionary<string, long[]?> LayerOutputs { get; } = new(StringComparer.Ordinal);

    public Coverage? Coverage { get; set; }
}

/// <summary>
/// Follows the model's constructor and <c>forward</c> with the <see cref="Interpreter"/>: reports certain shape
/// mismatches, checks <c>[return: Shape]</c>, and collects module paths and layer input shapes.
/// </summary>
internal static class ShapeInference
{
    public static InferenceResult Run(SemanticModels models, INamedTypeSymbol type, IMethodSymbol forward, IReadOnlyList<InputSpec> inputs,
                                      int[]? returnShape, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        var result = new InferenceResult();
        var interpreter = new Interpreter(models, ct);
        try
        {
            var self = interpreter.Construct(type);
            result.ModulePaths = ModulePaths(type, self, ct);
            var arguments = forward.Parameters
                .Select(p => inputs.FirstOrDefault(x => x.ParameterName == p.Name) is { } input
                    ? new TensorValue(new[] { Dim.Batch }.Concat(input.Shape.Select(d => (long)d)).ToArray())
                    : Value.Unknown)
                .ToList();
            var returns = interpreter.RunTop(forward, self, arguments);
            if (returns is not null && returns.Count > 0)
                CheckReturns(returns, returnShape, result, interpreter.Diagnostics);
            foreach (var pair in interpreter.LayerInputs) result.LayerInputs[pair.Key] = pair.Value;
            foreach (var pair in interpreter.LayerOutputs) result.LayerOutputs[pair.Key] = pair.Value;
            result.Coverage = interpreter.Coverage;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Interpreter.BudgetExceeded)
        {
            // Too much code to follow: what was found so far is certain; the rest stays unknown.
            result.OutputShape = null;
        }
        catch (Exception e)
        {
            // Inference is best effort: code it cannot follow must never break the build (a bug here is recorded).
            DebugGuard.Swallowed(e);
            result.OutputShape = null;
            result.ModulePaths = null;
            result.LayerInputs.Clear();
            result.LayerOutputs.Clear();
            diagnostics.AddRange(interpreter.Diagnostics.Where(d => d.Id != DiagnosticDescriptors.ShapeMismatch.Id));
            return result;
        }
        diagnostics.AddRange(interpreter.Diagnostics);
        return result;
    }

    private static void CheckReturns(IReadOnlyList<(Value Value, Microsoft.CodeAnalysis.Operations.IReturnOperation Operation)> returns, int[]? returnShape,
                                     InferenceResult result, List<DiagnosticInfo> diagnostics)
    {
        var joined = returns.Select(r => r.Value).Aggregate(Value.Join);
        result.OutputShape = (joined as TensorValue)?.PerSample;
        if (returnShape is null) return;
        var declared = returnShape.Select(d => (long)d).ToArray();
        foreach (var (value, operation) in returns)
        {
            if ((value as TensorValue)?.PerSample is not { } perSample || perSample.SequenceEqual(declared) || operation.ReturnedValue is null) continue;
            bool flatEqual = ShapeText.Product(perSample) == ShapeText.Product(declared);
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ReturnShapeMismatch, operation.ReturnedValue.Syntax.GetLocation(),
                ShapeText.Sample(perSample), ShapeText.Sample(declared) + (flatEqual ? " (same size, different layout)" : "")));
        }
    }

    /// <summary>The named_modules paths of the constructed model, or null when some part of the tree is not known.</summary>
    private static HashSet<string>? ModulePaths(INamedTypeSymbol type, ObjectValue self, CancellationToken ct)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        return AddObject(paths, "", type, self, ct, 0) ? paths : null;
    }

    private static bool AddObject(HashSet<string> paths, string prefix, INamedTypeSymbol type, ObjectValue obj, CancellationToken ct, int depth)
    {
        if (depth > 16) return false;
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (t.DeclaringSyntaxReferences.Length == 0)
                return t.ContainingNamespace?.ToDisplayString().StartsWith("TorchSharp", StringComparison.Ordinal) == true;
            if (t.DeclaringSyntaxReferences.Any(r => r.GetSyntax(ct).DescendantNodes().OfType<InvocationExpressionSyntax>()
                    .Any(i => i.Expression is IdentifierNameSyntax { Identifier.ValueText: "register_module" or "register" } or MemberAccessExpressionSyntax { Name.Identifier.ValueText: "register_module" })))
                return false;
            foreach (var member in t.GetMembers())
            {
                if (member is IPropertySymbol { IsStatic: false } property && Symbols.IsModule(property.Type)) return false;
                if (member is not IFieldSymbol { IsStatic: false, IsImplicitlyDeclared: false } field || !Symbols.IsModule(field.Type)) continue;
                string path = Interpreter.Join(prefix, Interpreter.ComponentName(field));
                var value = obj.Fields.TryGetValue(field.OriginalDefinition, out var v) ? v : Value.Unknown;
                if (value is ConstantValue { Constant: null }) continue; // RegisterComponents skips null fields
                paths.Add(path);
                if (!AddModule(paths, path, value, ct, depth)) return false;
            }
        }
        return true;
    }

    private static bool AddModule(HashSet<string> paths, string path, Value value, CancellationToken ct, int depth)
    {
        switch (value)
        {
            case ModuleValue { Children: { } children }:
                foreach (var (name, child) in children)
                {
                    string childPath = path + "." + name;
                    paths.Add(childPath);
                    if (!AddModule(paths, childPath, child, ct, depth + 1)) return false;
                }
                return true;
            case ModuleValue { Object: { } obj }:
                return AddObject(paths, path, obj.Type, obj, ct, depth + 1);
            case ModuleValue module:
                return ModuleFactory.IsLeaf(module.Kind);
            case ConstantValue { Constant: null }:
                return true;
            default:
                return false;
        }
    }
}
