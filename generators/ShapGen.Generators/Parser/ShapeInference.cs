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

/// <summary>What shape inference learned: output and layer-input shapes, module paths, the DeepLIFT forward.</summary>
internal sealed class InferenceResult
{
    public long[]? OutputShape { get; set; }

    /// <summary>Known module paths (named_modules spelling), or null when the module tree cannot be known.</summary>
    public HashSet<string>? ModulePaths { get; set; }

    /// <summary>Per-sample input shape of each module path reached by forward (null value: reached with differing shapes).</summary>
    public Dictionary<string, long[]?> LayerInputs { get; } = new(StringComparer.Ordinal);

    public DeepLiftForwardSpec? DeepLiftForward { get; set; }
}

/// <summary>
/// Follows <c>forward</c> statically: module fields built with constant arguments and the calls it understands.
/// Where it cannot follow, it knows nothing and says nothing (no false errors).
/// </summary>
internal sealed class ShapeInference
{
    private static readonly HashSet<string> ElementwiseNames = new(StringComparer.Ordinal)
    {
        "relu", "relu_", "relu6", "sigmoid", "sigmoid_", "tanh", "tanh_", "softmax", "log_softmax", "elu", "elu_", "leaky_relu",
        "leaky_relu_", "softplus", "gelu", "silu", "mish", "selu", "celu", "hardtanh", "hardswish", "hardsigmoid", "dropout", "abs",
        "neg", "exp", "log", "sqrt", "square", "contiguous", "clone", "detach", "alias", "softmin", "logsigmoid", "softsign",
        "tanhshrink", "dropout2d", "alpha_dropout", "sin", "cos", "clamp", "clip", "float", "to_type", "type",
    };

    private readonly SemanticModels _models;
    private readonly List<DiagnosticInfo> _diagnostics;
    private readonly CancellationToken _ct;
    private readonly Dictionary<IFieldSymbol, (string Path, Layer? Layer)> _fields = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<ISymbol, long[]?> _env = new(SymbolEqualityComparer.Default);
    private readonly HashSet<ISymbol> _untracked = new(SymbolEqualityComparer.Default);
    private readonly InferenceResult _result = new();
    private SemanticModel? _model;

    private ShapeInference(SemanticModels models, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        _models = models;
        _diagnostics = diagnostics;
        _ct = ct;
    }

    public static InferenceResult Run(SemanticModels models, INamedTypeSymbol type, IMethodSymbol forward, IReadOnlyList<InputSpec> inputs,
                                      int[]? returnShape, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        var inference = new ShapeInference(models, diagnostics, ct);
        try
        {
            inference.CollectFields(type);
            inference.Walk(forward, inputs, returnShape);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception)
        {
            // Inference is best effort: code it cannot follow must never break the build.
            inference._result.OutputShape = null;
            inference._result.ModulePaths = null;
            inference._result.LayerInputs.Clear();
        }
        inference._result.DeepLiftForward = DeepLiftRewriter.Rewrite(models, forward, diagnostics, ct);
        return inference._result;
    }

    private SemanticModel ModelFor(SyntaxTree tree) => _models.For(tree);

    private void CollectFields(INamedTypeSymbol type)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        bool pathsKnown = true;
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (t.DeclaringSyntaxReferences.Length == 0)
            {
                if (t.ContainingNamespace?.ToDisplayString().StartsWith("TorchSharp", StringComparison.Ordinal) != true) pathsKnown = false;
                break;
            }
            foreach (var member in t.GetMembers())
            {
                if (member is IPropertySymbol { IsStatic: false } property && Symbols.IsModule(property.Type)) pathsKnown = false;
                if (member is not IFieldSymbol { IsStatic: false, IsImplicitlyDeclared: false } field || !Symbols.IsModule(field.Type)) continue;
                string path = field.Name.StartsWith("_", StringComparison.Ordinal) && field.Name.Length > 1 ? field.Name.Substring(1) : field.Name;
                var layer = ReadFieldLayer(t, field);
                _fields[field] = (path, layer);
                paths.Add(path);
                paths.Add(field.Name);
                if (layer is SequentialLayer sequential) AddPaths(paths, path, sequential);
                else if (layer is null && !IsKnownLeaf(field.Type)) pathsKnown = false;
            }
            if (t.DeclaringSyntaxReferences.Any(r => r.GetSyntax(_ct).DescendantNodes().OfType<InvocationExpressionSyntax>()
                    .Any(i => i.Expression is IdentifierNameSyntax { Identifier.ValueText: "register_module" or "register" } or MemberAccessExpressionSyntax { Name.Identifier.ValueText: "register_module" })))
                pathsKnown = false;
        }
        _result.ModulePaths = pathsKnown ? paths : null;
    }

    private static bool IsKnownLeaf(ITypeSymbol type) =>
        // A field typed as a TorchSharp module class (e.g. Linear) has no children we could miss; a user module might.
        type.ContainingNamespace?.ToDisplayString().StartsWith("TorchSharp", StringComparison.Ordinal) == true &&
        type.Name is not ("Sequential" or "ModuleList" or "ModuleDict") && !(type is INamedTypeSymbol { Name: "Module" });

    private static void AddPaths(HashSet<string> paths, string prefix, SequentialLayer sequential)
    {
        foreach (var (name, child) in sequential.Children)
        {
            string path = prefix + "." + name;
            paths.Add(path);
            if (child is SequentialLayer inner) AddPaths(paths, path, inner);
        }
    }

    private Layer? ReadFieldLayer(INamedTypeSymbol owner, IFieldSymbol field)
    {
        var creations = new List<ExpressionSyntax>();
        foreach (var reference in field.DeclaringSyntaxReferences)
            if (reference.GetSyntax(_ct) is VariableDeclaratorSyntax { Initializer.Value: { } value })
                creations.Add(value);
        foreach (var reference in owner.DeclaringSyntaxReferences)
        {
            var model = ModelFor(reference.SyntaxTree);
            foreach (var assignment in reference.GetSyntax(_ct).DescendantNodes().OfType<AssignmentExpressionSyntax>())
            {
                var left = assignment.Left is MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax } m ? m.Name : assignment.Left;
                if (left is IdentifierNameSyntax id && id.Identifier.ValueText == field.Name &&
                    SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(left, _ct).Symbol, field))
                    creations.Add(assignment.Right);
            }
        }
        if (creations.Count != 1) return null;
        var expression = creations[0];
        return LayerReader.Read(ModelFor(expression.SyntaxTree).GetOperation(expression, _ct));
    }

    private void Walk(IMethodSymbol forward, IReadOnlyList<InputSpec> inputs, int[]? returnShape)
    {
        var syntax = forward.DeclaringSyntaxReferences.Select(r => r.GetSyntax(_ct)).OfType<MethodDeclarationSyntax>().FirstOrDefault();
        if (syntax is null) return;
        _model = ModelFor(syntax.SyntaxTree);
        for (int i = 0; i < forward.Parameters.Length; i++)
        {
            var input = inputs.FirstOrDefault(x => x.ParameterName == forward.Parameters[i].Name);
            _env[forward.Parameters[i]] = input is null ? null : new long[] { -1 }.Concat(input.Shape.Select(d => (long)d)).ToArray();
        }

        ExpressionSyntax? returned = null;
        long[]? output = null;
        bool returnKnown = false;
        if (syntax.ExpressionBody is { } arrow)
        {
            returned = arrow.Expression;
            output = Eval(returned);
            returnKnown = true;
        }
        else if (syntax.Body is { } body)
        {
            if (body.DescendantNodes().Any(n => n is GotoStatementSyntax or LabeledStatementSyntax)) return;
            MarkUntracked(body);
            var returns = body.DescendantNodes().OfType<ReturnStatementSyntax>().Where(r => !r.Ancestors().Any(a => a is LambdaExpressionSyntax or AnonymousMethodExpressionSyntax or LocalFunctionStatementSyntax)).ToList();
            foreach (var statement in body.Statements)
            {
                _ct.ThrowIfCancellationRequested();
                switch (statement)
                {
                    case LocalDeclarationStatementSyntax declaration:
                        foreach (var variable in declaration.Declaration.Variables)
                        {
                            if (variable.Initializer is null) continue;
                            var shape = Eval(variable.Initializer.Value);
                            if (_model.GetDeclaredSymbol(variable, _ct) is { } local && !_untracked.Contains(local)) _env[local] = shape;
                        }
                        break;
                    case ExpressionStatementSyntax { Expression: AssignmentExpressionSyntax { RawKind: (int)SyntaxKind.SimpleAssignmentExpression } assignment }:
                    {
                        var shape = Eval(assignment.Right);
                        if (_model.GetSymbolInfo(assignment.Left, _ct).Symbol is { } target && (target is ILocalSymbol or IParameterSymbol) && !_untracked.Contains(target))
                            _env[target] = shape;
                        break;
                    }
                    case ExpressionStatementSyntax expressionStatement:
                        Eval(expressionStatement.Expression);
                        break;
                    case ReturnStatementSyntax { Expression: { } value } when returns.Count == 1 && returns[0] == statement:
                        returned = value;
                        output = Eval(value);
                        returnKnown = true;
                        break;
                }
                if (statement is ReturnStatementSyntax) break;
            }
        }
        if (!returnKnown || output is null) return;
        var perSample = output.Skip(1).ToArray();
        _result.OutputShape = perSample;
        if (returnShape is not null && !perSample.SequenceEqual(returnShape.Select(d => (long)d)) && returned is not null)
        {
            bool flatEqual = ShapeText.Product(perSample) == ShapeText.Product(returnShape.Select(d => (long)d));
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ReturnShapeMismatch, returned.GetLocation(),
                ShapeText.Sample(perSample), ShapeText.Sample(returnShape.Select(d => (long)d)) + (flatEqual ? " (same size, different layout)" : "")));
        }
    }

    private void MarkUntracked(BlockSyntax body)
    {
        foreach (var node in body.DescendantNodes())
        {
            ExpressionSyntax? written = node switch
            {
                AssignmentExpressionSyntax a => a.Left,
                PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.PreIncrementExpression or (int)SyntaxKind.PreDecrementExpression } p => p.Operand,
                PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.PostIncrementExpression or (int)SyntaxKind.PostDecrementExpression } p => p.Operand,
                ArgumentSyntax { RefKindKeyword.RawKind: not 0 } arg => arg.Expression,
                _ => null,
            };
            if (node is VariableDeclaratorSyntax declarator && !IsTopLevel(declarator, body) && _model!.GetDeclaredSymbol(declarator, _ct) is { } declared)
                _untracked.Add(declared);
            if (node is SingleVariableDesignationSyntax designation && _model!.GetDeclaredSymbol(designation, _ct) is { } designated)
                _untracked.Add(designated);
            if (node is ForEachStatementSyntax forEach && _model!.GetDeclaredSymbol(forEach, _ct) is { } iteration)
                _untracked.Add(iteration);
            if (written is null) continue;
            bool topLevel = node is AssignmentExpressionSyntax { RawKind: (int)SyntaxKind.SimpleAssignmentExpression } && node.Parent is ExpressionStatementSyntax s && s.Parent == body;
            if (!topLevel && _model!.GetSymbolInfo(written, _ct).Symbol is { } symbol)
                _untracked.Add(symbol);
            if (written is TupleExpressionSyntax tuple)
                foreach (var element in tuple.Arguments)
                    if (_model!.GetSymbolInfo(element.Expression, _ct).Symbol is { } s2) _untracked.Add(s2);
        }
    }

    private static bool IsTopLevel(VariableDeclaratorSyntax declarator, BlockSyntax body) =>
        declarator.Parent?.Parent is LocalDeclarationStatementSyntax statement && statement.Parent == body;

    private long[]? Eval(ExpressionSyntax expression)
    {
        _ct.ThrowIfCancellationRequested();
        switch (expression)
        {
            case ParenthesizedExpressionSyntax parenthesized:
                return Eval(parenthesized.Expression);
            case IdentifierNameSyntax identifier:
            {
                var symbol = _model!.GetSymbolInfo(identifier, _ct).Symbol;
                return symbol is not null && !_untracked.Contains(symbol) && _env.TryGetValue(symbol, out var shape) ? shape : null;
            }
            case InvocationExpressionSyntax invocation:
                return EvalInvocation(invocation);
            case BinaryExpressionSyntax binary when binary.Kind() is SyntaxKind.AddExpression or SyntaxKind.SubtractExpression or SyntaxKind.MultiplyExpression or SyntaxKind.DivideExpression:
            {
                var left = Eval(binary.Left);
                var right = Eval(binary.Right);
                if (left is not null && right is not null && left.SequenceEqual(right)) return left;
                if (left is not null && IsScalar(binary.Right)) return left;
                if (right is not null && IsScalar(binary.Left)) return right;
                return null;
            }
            default:
                foreach (var child in expression.ChildNodes().OfType<ExpressionSyntax>())
                    Eval(child);
                return null;
        }
    }

    private bool IsScalar(ExpressionSyntax expression)
    {
        var type = _model!.GetTypeInfo(expression, _ct).Type;
        return type is not null && type.SpecialType is SpecialType.System_Double or SpecialType.System_Single or SpecialType.System_Int32 or SpecialType.System_Int64;
    }

    private long[]? EvalInvocation(InvocationExpressionSyntax invocation)
    {
        if (_model!.GetOperation(invocation, _ct) is not IInvocationOperation operation)
        {
            foreach (var argument in invocation.ArgumentList.Arguments) Eval(argument.Expression);
            return null;
        }
        var method = operation.TargetMethod;
        string name = method.Name;

        // A module field: conv.call(x), this.conv.forward(x).
        if ((name == "call" || name == "forward") && Symbols.IsModule(method.ContainingType) && operation.Instance is not null)
        {
            var receiver = LayerReader.Unwrap(operation.Instance);
            var argumentShapes = invocation.ArgumentList.Arguments.Select(a => Eval(a.Expression)).ToList();
            if (receiver is IFieldReferenceOperation fieldReference && _fields.TryGetValue(fieldReference.Field, out var entry))
            {
                if (name == "forward")
                    _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ForwardBypassesHooks,
                        (invocation.Expression as MemberAccessExpressionSyntax)?.Name.GetLocation() ?? invocation.GetLocation(),
                        fieldReference.Field.Name, "DeepExplainer and layer explanation"));
                if (argumentShapes.Count != 1 || argumentShapes[0] is not { } input) return null;
                return ApplyLayer(entry.Path, entry.Layer, input, invocation);
            }
            return null;
        }

        bool onTensor = Symbols.IsTensor(method.ContainingType) && operation.Instance is not null;
        bool onTorch = method.IsStatic && (Symbols.IsTorch(method.ContainingType) || Symbols.IsFunctional(method.ContainingType) ||
                                           method.ContainingType?.Name == "special" && Symbols.IsTorch(method.ContainingType.ContainingType));
        if (!onTensor && !onTorch)
        {
            foreach (var argument in invocation.ArgumentList.Arguments) Eval(argument.Expression);
            return null;
        }
        var args = LayerReader.Arguments(operation);
        long[]? subject;
        if (onTensor)
        {
            subject = operation.Instance!.Syntax is ExpressionSyntax instance ? Eval(instance) : null;
            foreach (var argument in invocation.ArgumentList.Arguments) Eval(argument.Expression);
        }
        else
        {
            var first = operation.Arguments.FirstOrDefault(a => Symbols.IsTensor(a.Parameter?.Type));
            subject = null;
            foreach (var argument in operation.Arguments.Where(a => a.ArgumentKind == ArgumentKind.Explicit))
            {
                if (argument.Syntax is not ArgumentSyntax argumentSyntax || name == "cat" || name == "concat" || name == "concatenate") continue;
                var shape = Eval(argumentSyntax.Expression);
                if (argument == first) subject = shape;
            }
        }

        if (ElementwiseNames.Contains(name))
            return subject;
        switch (name)
        {
            case "flatten" when subject is not null:
                return LayerReader.ConstantLong(Get(args, "start_dim")) is { } start && LayerReader.ConstantLong(Get(args, "end_dim")) is { } end
                    ? FlattenLayer.Flatten(subject, start, end) : null;
            case "view" or "reshape" when subject is not null:
                return Reshape(subject, Get(args, "shape") ?? Get(args, "size"), invocation);
            case "cat" or "concat" or "concatenate" when onTorch:
                return Cat(operation, args, invocation);
            default:
                return null;
        }
    }

    private static IOperation? Get(Dictionary<string, IOperation> args, string name) => args.TryGetValue(name, out var value) ? value : null;

    private long[]? ApplyLayer(string path, Layer? layer, long[] input, SyntaxNode at)
    {
        Record(path, input);
        if (layer is null) return null;
        if (layer is SequentialLayer sequential)
        {
            long[]? current = input;
            foreach (var (childName, child) in sequential.Children)
            {
                if (current is null) return null;
                current = ApplyLayer(path + "." + childName, child, current, at);
            }
            return current;
        }
        var output = layer.Apply(input, out var error);
        if (error is not null)
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ShapeMismatch, at.GetLocation(), $"{layer.Kind} '{path}'", error.Expected, error.Received));
        return output;
    }

    private void Record(string path, long[] input)
    {
        var perSample = input.Skip(1).ToArray();
        if (_result.LayerInputs.TryGetValue(path, out var previous))
        {
            if (previous is not null && !previous.SequenceEqual(perSample)) _result.LayerInputs[path] = null;
        }
        else _result.LayerInputs[path] = perSample;
    }

    private long[]? Reshape(long[] subject, IOperation? shapeArgument, InvocationExpressionSyntax at)
    {
        var value = LayerReader.Unwrap(shapeArgument);
        if (value is not IArrayCreationOperation { Initializer: { } initializer }) return null;
        var elements = initializer.ElementValues;
        if (elements.Length == 0) return null;
        long? total = ShapeText.Product(subject.Skip(1));
        if (total is null) return null;
        var rest = new List<long>();
        for (int i = 1; i < elements.Length; i++)
        {
            if (LayerReader.ConstantLong(elements[i]) is not { } d || d == 0 || d < -1) return null;
            rest.Add(d);
        }
        bool firstIsBatch = IsBatchSize(elements[0]);
        if (!firstIsBatch)
        {
            if (LayerReader.ConstantLong(elements[0]) != -1 || rest.Contains(-1)) return null;
            return ShapeText.Product(rest) == total ? new long[] { -1 }.Concat(rest).ToArray() : null;
        }
        int unknown = rest.Count(d => d == -1);
        if (unknown > 1) return null;
        long? known = ShapeText.Product(rest.Where(d => d != -1));
        if (known is null) return null;
        bool fits = unknown == 0 ? known == total : known != 0 && total % known == 0;
        if (!fits)
        {
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ShapeMismatch, at.GetLocation(),
                (at.Expression as MemberAccessExpressionSyntax)?.Name.Identifier.ValueText ?? "reshape",
                $"a shape holding {ShapeText.N(total.Value)} elements per sample (input shape {ShapeText.Full(subject)})",
                "[N, " + string.Join(", ", rest.Select(ShapeText.N)) + "]"));
            return null;
        }
        return new long[] { -1 }.Concat(rest.Select(d => d == -1 ? total.Value / known!.Value : d)).ToArray();
    }

    /// <summary>True for <c>x.shape[0]</c> or <c>x.size(0)</c> of a tensor whose shape is tracked.</summary>
    private bool IsBatchSize(IOperation element)
    {
        var syntax = LayerReader.Unwrap(element)?.Syntax;
        switch (syntax)
        {
            case ElementAccessExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "shape" } member } access
                when access.ArgumentList.Arguments.Count == 1 && _model!.GetConstantValue(access.ArgumentList.Arguments[0].Expression, _ct).Value is 0:
                return Eval(member.Expression) is not null;
            case InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "size" } member } call
                when call.ArgumentList.Arguments.Count == 1 && _model!.GetConstantValue(call.ArgumentList.Arguments[0].Expression, _ct).Value is 0:
                return Eval(member.Expression) is not null;
            default:
                return false;
        }
    }

    private long[]? Cat(IInvocationOperation operation, Dictionary<string, IOperation> args, InvocationExpressionSyntax at)
    {
        var tensorsArgument = operation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0);
        if (tensorsArgument?.Syntax is not ArgumentSyntax tensorsSyntax) return null;
        IEnumerable<ExpressionSyntax>? items = tensorsSyntax.Expression switch
        {
            ImplicitArrayCreationExpressionSyntax implicitArray => implicitArray.Initializer.Expressions,
            ArrayCreationExpressionSyntax { Initializer: { } init } => init.Expressions,
            CollectionExpressionSyntax collection => collection.Elements.All(e => e is ExpressionElementSyntax)
                ? collection.Elements.Cast<ExpressionElementSyntax>().Select(e => e.Expression) : null,
            _ => null,
        };
        if (items is null)
        {
            Eval(tensorsSyntax.Expression);
            return null;
        }
        var shapes = items.Select(Eval).ToList();
        if (shapes.Count == 0 || shapes.Any(s => s is null)) return null;
        if (LayerReader.ConstantLong(Get(args, "dim")) is not { } dim) return null;
        int rank = shapes[0]!.Length;
        if (shapes.Any(s => s!.Length != rank)) return null;
        if (dim < 0) dim += rank;
        if (dim < 1 || dim >= rank) return null;
        var result = (long[])shapes[0]!.Clone();
        for (int i = 1; i < shapes.Count; i++)
        {
            var shape = shapes[i]!;
            for (int d = 1; d < rank; d++)
            {
                if (d == dim) continue;
                if (shape[d] != result[d])
                {
                    _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ShapeMismatch, at.GetLocation(), "cat",
                        $"equal sizes except in dimension {ShapeText.N(dim)} (first tensor {ShapeText.Full(shapes[0]!)})",
                        $"tensor {ShapeText.N(i)} of shape {ShapeText.Full(shape)}"));
                    return null;
                }
            }
            result[dim] += shape[dim];
        }
        return result;
    }
}
