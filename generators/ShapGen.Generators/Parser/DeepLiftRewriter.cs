using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Parser;

/// <summary>
/// Writes the DeepLIFT variant of <c>forward</c>: each functional nonlinearity (<c>nn.functional.relu(x)</c>,
/// <c>x.relu()</c>, <c>softmax(x, 1)</c>, …) becomes a call to <c>global::ShapGen.DeepLiftOps</c>, which behaves like the
/// torch function except while a DeepExplainer runs. Calls it cannot rewrite get a warning at their line.
/// </summary>
internal sealed class DeepLiftRewriter : CSharpSyntaxRewriter
{
    private static readonly Dictionary<string, (string Op, string[] Parameters)> Supported = new(StringComparer.Ordinal)
    {
        ["relu"] = ("Relu", Array.Empty<string>()),
        ["sigmoid"] = ("Sigmoid", Array.Empty<string>()),
        ["tanh"] = ("Tanh", Array.Empty<string>()),
        ["elu"] = ("Elu", new[] { "alpha" }),
        ["leaky_relu"] = ("LeakyRelu", new[] { "negative_slope" }),
        ["softplus"] = ("Softplus", new[] { "beta", "threshold" }),
        ["softmax"] = ("Softmax", new[] { "dim" }),
        ["log_softmax"] = ("LogSoftmax", new[] { "dim" }),
        ["max_pool2d"] = ("MaxPool2d", new[] { "kernel_size", "stride", "padding", "dilation", "ceil_mode" }),
        ["max_pool1d"] = ("MaxPool1d", new[] { "kernel_size", "stride", "padding", "dilation", "ceil_mode" }),
    };

    /// <summary>Arguments DeepLiftOps takes as non-nullable: only a constant may be passed (null means the default).</summary>
    private static readonly HashSet<string> ConstantOnly = new(StringComparer.Ordinal) { "padding", "dilation" };

    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "relu_", "sigmoid_", "tanh_", "elu_", "leaky_relu_", "relu6", "gelu", "silu", "mish", "selu", "celu", "hardtanh", "hardswish",
        "hardsigmoid", "glu", "logsigmoid", "softsign", "tanhshrink", "threshold", "prelu", "rrelu", "softmin", "hardshrink", "softshrink",
        "max_pool3d",
    };

    private readonly SemanticModel _model;
    private readonly List<DiagnosticInfo> _diagnostics;
    private readonly CancellationToken _ct;
    private int _rewritten;

    private DeepLiftRewriter(SemanticModel model, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        _model = model;
        _diagnostics = diagnostics;
        _ct = ct;
    }

    public static DeepLiftForwardSpec? Rewrite(SemanticModels models, IMethodSymbol forward, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        var syntax = forward.DeclaringSyntaxReferences.Select(r => r.GetSyntax(ct)).OfType<MethodDeclarationSyntax>().FirstOrDefault();
        if (syntax is null || (syntax.Body is null && syntax.ExpressionBody is null) || syntax.ContainsDiagnostics)
            return null;
        var local = new List<DiagnosticInfo>();
        var rewriter = new DeepLiftRewriter(models.For(syntax.SyntaxTree), local, ct);
        SyntaxNode? body;
        try
        {
            body = syntax.Body is not null ? rewriter.Visit(syntax.Body) : rewriter.Visit(syntax.ExpressionBody);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            DebugGuard.Swallowed(e);
            return null;
        }
        diagnostics.AddRange(local);
        if (rewriter._rewritten == 0 || body is null)
            return null;

        var usings = new List<string>();
        var root = syntax.SyntaxTree.GetRoot(ct);
        if (root is CompilationUnitSyntax unit)
            usings.AddRange(unit.Usings.Where(u => u.GlobalKeyword.IsKind(SyntaxKind.None)).Select(u => u.WithoutTrivia().ToString()));
        foreach (var ns in syntax.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().Reverse())
            usings.AddRange(ns.Usings.Select(u => u.WithoutTrivia().ToString()));

        var parameters = SyntaxFactory.ParameterList(SyntaxFactory.SeparatedList(
            syntax.ParameterList.Parameters.Select(p => p.WithAttributeLists(default).WithModifiers(default).WithDefault(null).WithoutTrivia())));
        string bodyText = body is ArrowExpressionClauseSyntax arrow ? arrow.WithoutTrivia().ToFullString() + ";" : body.WithoutTrivia().ToFullString();
        return new DeepLiftForwardSpec(usings.Distinct().ToEquatableArray(), syntax.ReturnType.WithoutTrivia().ToString(),
            parameters.NormalizeWhitespace().ToFullString(), bodyText);
    }

    public override SyntaxNode? VisitInvocationExpression(InvocationExpressionSyntax node)
    {
        _ct.ThrowIfCancellationRequested();
        if (_model.GetOperation(node, _ct) is not IInvocationOperation operation)
            return base.VisitInvocationExpression(node);
        var method = operation.TargetMethod;
        bool onTensor = Symbols.IsTensor(method.ContainingType) && !method.IsStatic;
        bool onTorch = method.IsStatic && (Symbols.IsTorch(method.ContainingType) || Symbols.IsFunctional(method.ContainingType) ||
                                           method.ContainingType?.Name == "special" && Symbols.IsTorch(method.ContainingType.ContainingType));
        if (!onTensor && !onTorch)
            return base.VisitInvocationExpression(node);
        string name = method.Name;
        var location = (node.Expression as MemberAccessExpressionSyntax)?.Name.GetLocation() ?? node.GetLocation();
        string display = (onTensor ? "Tensor." : method.ContainingType!.Name + ".") + name;

        if (Unsupported.Contains(name))
        {
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FunctionalNotRewritten, location, display,
                name.EndsWith("_", StringComparison.Ordinal) ? "in-place operations cannot be rewritten" : "DeepLIFT has no rule for it here"));
            return base.VisitInvocationExpression(node);
        }
        if (!Supported.TryGetValue(name, out var target))
            return base.VisitInvocationExpression(node);

        ExpressionSyntax? subject = null;
        var extra = new List<string>();
        var byName = new Dictionary<string, ExpressionSyntax>(StringComparer.Ordinal);
        foreach (var argument in operation.Arguments)
        {
            if (argument.ArgumentKind == ArgumentKind.DefaultValue || argument.Parameter is null) continue;
            if (argument.Syntax is not ArgumentSyntax argumentSyntax) return Refuse(node, location, display, "its arguments cannot be mapped");
            var parameter = argument.Parameter;
            if (parameter.Name == "inplace")
            {
                if (_model.GetConstantValue(argumentSyntax.Expression, _ct).Value is false) continue;
                return Refuse(node, location, display, "in-place operations cannot be rewritten");
            }
            if (parameter.Name == "dtype")
            {
                if (_model.GetConstantValue(argumentSyntax.Expression, _ct) is { HasValue: true, Value: null }) continue;
                return Refuse(node, location, display, "a dtype argument is not supported by DeepLiftOps");
            }
            if (Symbols.IsTensor(parameter.Type) && subject is null)
            {
                subject = argumentSyntax.Expression;
                continue;
            }
            var valueSyntax = argumentSyntax.Expression;
            if (name.StartsWith("max_pool", StringComparison.Ordinal))
            {
                if (parameter.Name == "kernel_size" && parameter.Type.SpecialType != SpecialType.System_Int64)
                    return Refuse(node, location, display, "only a single kernel size can be rewritten; use nn.MaxPool2d");
                if (ConstantOnly.Contains(parameter.Name))
                {
                    var constant = _model.GetConstantValue(valueSyntax, _ct);
                    if (constant.HasValue && constant.Value is null) continue;
                    if (!constant.HasValue) return Refuse(node, location, display, $"its {parameter.Name} is not a constant");
                }
            }
            if (parameter.Type.Name == "Scalar")
            {
                var operand = (argument.Value as IConversionOperation)?.Operand;
                if (operand?.Type?.SpecialType is not (SpecialType.System_Double or SpecialType.System_Single or SpecialType.System_Int32 or SpecialType.System_Int64))
                    return Refuse(node, location, display, "its Scalar argument is not a number");
            }
            byName[parameter.Name] = valueSyntax;
        }
        if (onTensor)
            subject = operation.Instance?.Syntax as ExpressionSyntax;
        if (subject is null || byName.Keys.Any(k => Array.IndexOf(target.Parameters, k) < 0))
            return Refuse(node, location, display, "its overload is not supported");

        var rewrittenSubject = (ExpressionSyntax)Visit(subject)!;
        var arguments = new List<string> { rewrittenSubject.WithoutTrivia().ToFullString() };
        foreach (var parameter in target.Parameters)
        {
            if (!byName.TryGetValue(parameter, out var value)) continue;
            var rewritten = (ExpressionSyntax)Visit(value)!;
            arguments.Add(OpParameterName(parameter) + ": " + rewritten.WithoutTrivia().ToFullString());
        }
        _rewritten++;
        var replacement = SyntaxFactory.ParseExpression("global::ShapGen.DeepLiftOps." + target.Op + "(" + string.Join(", ", arguments) + ")");
        return replacement.WithTriviaFrom(node);
    }

    private SyntaxNode? Refuse(InvocationExpressionSyntax node, Location location, string display, string reason)
    {
        _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FunctionalNotRewritten, location, display, reason));
        return base.VisitInvocationExpression(node);
    }

    private static string OpParameterName(string torchName) => torchName switch
    {
        "negative_slope" => "negativeSlope",
        "kernel_size" => "kernelSize",
        "ceil_mode" => "ceilMode",
        _ => torchName,
    };
}
