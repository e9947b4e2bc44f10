using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Parser;

/// <summary>
/// An abstract interpreter over Roslyn operations. Values are tensor shapes over the <see cref="Dim"/> lattice,
/// integers, tuples, lists, modules and user objects; branches are joined, loops with constant bounds unrolled, other
/// loops havocked; user methods and constructors are followed and memoised per (callee, receiver, arguments).
/// Where it cannot follow it produces <see cref="Value.Unknown"/>, and unknown values never raise an error.
/// </summary>
internal sealed partial class Interpreter
{
    private const int MaxSteps = 200_000;
    private const int MaxDepth = 12;
    private const int MaxIterations = 512;

    private readonly SemanticModels _models;
    private readonly CancellationToken _ct;
    private readonly Dictionary<(ISymbol, object?, string?, string), Value> _memo = new();
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private readonly Dictionary<IFieldSymbol, Value> _statics = new(SymbolEqualityComparer.Default);
    private readonly HashSet<ISymbol> _inProgress = new(SymbolEqualityComparer.Default);
    private int _steps;
    private int _depth;

    public Interpreter(SemanticModels models, CancellationToken ct)
    {
        _models = models;
        _ct = ct;
    }

    public List<DiagnosticInfo> Diagnostics { get; } = new();

    /// <summary>Per-sample input shape of each module path reached (null: reached with an unknown or differing shape).</summary>
    public Dictionary<string, long[]?> LayerInputs { get; } = new(StringComparer.Ordinal);

    /// <summary>Per-sample output shape of each module path reached (null: an unknown or differing shape, or not a tensor).</summary>
    public Dictionary<string, long[]?> LayerOutputs { get; } = new(StringComparer.Ordinal);

    /// <summary>Where the top frame stopped knowing shapes, for the coverage report.</summary>
    public Coverage Coverage { get; } = new();

    /// <summary>Raised to abandon a loop or method the interpreter cannot represent; caught where it was entered.</summary>
    private sealed class GiveUp : Exception
    {
    }

    /// <summary>Raised when the step budget is spent; the whole inference ends silently.</summary>
    public sealed class BudgetExceeded : Exception
    {
    }

    private enum Jump { None, Break, Continue, Return }

    /// <summary>The abstract state of one frame: locals and the receiver's fields.</summary>
    private sealed class State
    {
        public Dictionary<ISymbol, Value> Locals { get; private set; } = new(SymbolEqualityComparer.Default);

        public Dictionary<IFieldSymbol, Value>? Fields { get; private set; }

        public Jump Jump { get; set; }

        public static State For(ObjectValue? self) => new() { Fields = self?.Fields };

        public State Copy() => new()
        {
            Locals = new Dictionary<ISymbol, Value>(Locals, SymbolEqualityComparer.Default),
            Fields = Fields is null ? null : new Dictionary<IFieldSymbol, Value>(Fields, SymbolEqualityComparer.Default),
            Jump = Jump,
        };

        /// <summary>Joins two branch states into this one (a returning branch contributes nothing).</summary>
        public void JoinFrom(State a, State b)
        {
            if (a.Jump == Jump.Return && b.Jump == Jump.Return) { Take(a); return; }
            if (a.Jump == Jump.Return) { Take(b); return; }
            if (b.Jump == Jump.Return) { Take(a); return; }
            if (a.Jump != b.Jump) throw new GiveUp();
            Jump = a.Jump;
            Locals = JoinMaps(a.Locals, b.Locals);
            if (Fields is not null && a.Fields is not null && b.Fields is not null)
            {
                var joined = JoinMaps(a.Fields, b.Fields);
                Fields.Clear();
                foreach (var pair in joined) Fields[pair.Key] = pair.Value;
            }
        }

        /// <summary>Makes this state equal to <paramref name="s"/>, keeping its own field dictionary (it may be an object's).</summary>
        public void Take(State s)
        {
            Locals = s.Locals;
            Jump = s.Jump;
            if (Fields is not null && s.Fields is not null && !ReferenceEquals(Fields, s.Fields))
            {
                var copy = new Dictionary<IFieldSymbol, Value>(s.Fields, SymbolEqualityComparer.Default);
                Fields.Clear();
                foreach (var pair in copy) Fields[pair.Key] = pair.Value;
            }
        }

        private static Dictionary<TKey, Value> JoinMaps<TKey>(Dictionary<TKey, Value> a, Dictionary<TKey, Value> b) where TKey : ISymbol
        {
            var result = new Dictionary<TKey, Value>((IEqualityComparer<TKey>)(object)SymbolEqualityComparer.Default);
            foreach (var pair in a)
                if (b.TryGetValue(pair.Key, out var other)) result[pair.Key] = Value.Join(pair.Value, other);
            return result;
        }
    }

    /// <summary>One method activation.</summary>
    private sealed class Frame
    {
        public Frame(SemanticModel model, ObjectValue? self, string? selfPath, bool top)
        {
            Model = model;
            Self = self;
            SelfPath = selfPath;
            Top = top;
            State = State.For(self);
        }

        public SemanticModel Model { get; }

        public ObjectValue? Self { get; }

        public string? SelfPath { get; }

        public bool Top { get; }

        public State State { get; set; }

        public List<(Value Value, IReturnOperation Operation)> Returns { get; } = new();
    }

    private Frame _frame = null!;

    // ----- entry points -------------------------------------------------------------------------------------------

    /// <summary>Builds an instance of the model class by running its constructors (arguments unknown); joins several.</summary>
    public ObjectValue Construct(INamedTypeSymbol type)
    {
        var constructors = type.InstanceConstructors.Where(c => !c.IsStatic).ToList();
        ObjectValue? result = null;
        foreach (var constructor in constructors.Count == 0 ? new IMethodSymbol?[] { null } : constructors.Cast<IMethodSymbol?>())
        {
            var obj = new ObjectValue(type);
            RunConstructor(type, constructor, obj, constructor?.Parameters.Select(_ => Value.Unknown).ToList() ?? new List<Value>());
            if (result is null) result = obj;
            else
            {
                foreach (var key in result.Fields.Keys.ToList())
                    result.Fields[key] = obj.Fields.TryGetValue(key, out var other) ? Value.Join(result.Fields[key], other) : Value.Unknown;
            }
        }
        return result ?? new ObjectValue(type);
    }

    /// <summary>Runs <paramref name="method"/> with the given receiver and arguments; the returns with their operations.</summary>
    public IReadOnlyList<(Value Value, IReturnOperation Operation)>? RunTop(IMethodSymbol method, ObjectValue self, IReadOnlyList<Value> arguments)
    {
        var body = Body(method, out var model);
        if (body is null || model is null) return null;
        var frame = new Frame(model, self, "", top: true);
        Bind(frame, method, arguments);
        var saved = _frame;
        _frame = frame;
        try
        {
            Exec(body);
        }
        finally
        {
            _frame = saved;
        }
        return frame.Returns;
    }

    // ----- statements ---------------------------------------------------------------------------------------------

    private void Exec(IOperation? operation)
    {
        if (operation is null || _frame.State.Jump != Jump.None) return;
        Step();
        switch (operation)
        {
            case IBlockOperation block:
                foreach (var statement in block.Operations)
                {
                    if (_frame.State.Jump != Jump.None) break;
                    Exec(statement);
                }
                break;
            case IVariableDeclarationGroupOperation group:
                foreach (var declaration in group.Declarations)
                foreach (var declarator in declaration.Declarators)
                {
                    var initializer = declarator.Initializer ?? declaration.Initializer;
                    var value = initializer is null ? Value.Unknown : Eval(initializer.Value);
                    _frame.State.Locals[declarator.Symbol] = value;
                    Covered(declarator, value);
                }
                break;
            case IExpressionStatementOperation expression:
                Eval(expression.Operation);
                Covered(operation);
                break;
            case IReturnOperation { Kind: OperationKind.Return } ret:
            {
                var value = ret.ReturnedValue is null ? Value.Unknown : Eval(ret.ReturnedValue);
                _frame.Returns.Add((value, ret));
                _frame.State.Jump = Jump.Return;
                Covered(operation, value);
                break;
            }
            case IConditionalOperation conditional:
                Branch(conditional.Condition, () => Exec(conditional.WhenTrue), () => Exec(conditional.WhenFalse));
                break;
            case IBranchOperation branch when branch.BranchKind is BranchKind.Break or BranchKind.Continue:
                _frame.State.Jump = branch.BranchKind == BranchKind.Break ? Jump.Break : Jump.Continue;
                break;
            case ILoopOperation loop:
                Loop(loop);
                break;
            case IUsingOperation usingOperation:
                Eval(usingOperation.Resources);
                Exec(usingOperation.Body);
                break;
            case IUsingDeclarationOperation usingDeclaration:
                Exec(usingDeclaration.DeclarationGroup);
                break;
            case ITryOperation tryOperation when tryOperation.Catches.Length == 0:
                Exec(tryOperation.Body);
                Exec(tryOperation.Finally);
                break;
            case ILocalFunctionOperation:
            case IEmptyOperation:
                break;
            case ILabeledOperation { Operation: var inner }:
                Havoc(operation);
                Exec(inner);
                break;
            default:
                Havoc(operation);
                Coverage.Stop(operation, "a statement the shape inference does not follow", _frame.Top);
                break;
        }
    }

    private void Branch(IOperation condition, Action whenTrue, Action whenFalse)
    {
        var test = Eval(condition);
        if (test is ConstantValue { Constant: bool b })
        {
            if (b) whenTrue(); else whenFalse();
            return;
        }
        var before = _frame.State;
        var left = before.Copy();
        var right = before.Copy();
        _frame.State = left;
        whenTrue();
        _frame.State = right;
        whenFalse();
        _frame.State = before;
        before.JoinFrom(left, right);
    }

    private void Loop(ILoopOperation loop)
    {
        var current = _frame.State;
        var before = current.Copy();
        try
        {
            if (!Unroll(loop))
                throw new GiveUp();
        }
        catch (GiveUp)
        {
            _frame.State = current;
            current.Take(before);
            Havoc(loop);
            Coverage.Stop(loop, "a loop without constant bounds", _frame.Top);
        }
    }

    private bool Unroll(ILoopOperation loop)
    {
        switch (loop)
        {
            case IForLoopOperation forLoop:
                foreach (var b in forLoop.Before) Exec(b);
                for (int i = 0; ; i++)
                {
                    if (i > MaxIterations) return false;
                    var test = forLoop.Condition is null ? new ConstantValue(true) : Eval(forLoop.Condition);
                    if (test is not ConstantValue { Constant: bool go }) return false;
                    if (!go) return true;
                    if (!Iteration(forLoop.Body)) return true;
                    foreach (var step in forLoop.AtLoopBottom) Eval(step is IExpressionStatementOperation e ? e.Operation : step);
                }
            case IWhileLoopOperation whileLoop when whileLoop.Condition is not null:
                for (int i = 0; ; i++)
                {
                    if (i > MaxIterations) return false;
                    if (whileLoop.ConditionIsTop)
                    {
                        var test = Eval(whileLoop.Condition);
                        if (test is not ConstantValue { Constant: bool go }) return false;
                        if (!go) return true;
                    }
                    if (!Iteration(whileLoop.Body)) return true;
                    if (!whileLoop.ConditionIsTop)
                    {
                        var test = Eval(whileLoop.Condition);
                        if (test is not ConstantValue { Constant: bool go }) return false;
                        if (!go) return true;
                    }
                }
            case IForEachLoopOperation forEach:
            {
                if (Eval(forEach.Collection) is not ListValue items || items.Items.Count > MaxIterations) return false;
                foreach (var item in items.Items)
                {
                    switch (forEach.LoopControlVariable)
                    {
                        case IVariableDeclaratorOperation declarator:
                            _frame.State.Locals[declarator.Symbol] = item;
                            break;
                        case IDeclarationExpressionOperation { Expression: ITupleOperation tuple }:
                            Deconstruct(tuple, item);
                            break;
                        default:
                            return false;
                    }
                    if (!Iteration(forEach.Body)) return true;
                }
                return true;
            }
            default:
                return false;
        }
    }

    /// <summary>Runs one loop iteration; false when it broke out of the loop (or returned).</summary>
    private bool Iteration(IOperation body)
    {
        Exec(body);
        var jump = _frame.State.Jump;
        if (jump == Jump.Continue) _frame.State.Jump = Jump.None;
        if (jump == Jump.Break)
        {
            _frame.State.Jump = Jump.None;
            return false;
        }
        return jump != Jump.Return;
    }

    /// <summary>Forgets every local and field that <paramref name="operation"/> may write.</summary>
    private void Havoc(IOperation operation)
    {
        foreach (var node in operation.DescendantsAndSelf())
        {
            IOperation? target = node switch
            {
                IAssignmentOperation assignment => assignment.Target,
                IIncrementOrDecrementOperation increment => increment.Target,
                IArgumentOperation { Parameter.RefKind: not RefKind.None } argument => argument.Value,
                IInvocationOperation { Instance: { } instance } => instance,
                _ => null,
            };
            if (target is ITupleOperation tuple)
            {
                foreach (var element in tuple.Elements) Forget(element);
                continue;
            }
            if (target is not null) Forget(target);
        }
    }

    private void Forget(IOperation target)
    {
        target = Operations.Unwrap(target)!;
        switch (target)
        {
            case ILocalReferenceOperation local:
                _frame.State.Locals[local.Local] = Value.Unknown;
                break;
            case IParameterReferenceOperation parameter:
                _frame.State.Locals[parameter.Parameter] = Value.Unknown;
                break;
            case IFieldReferenceOperation { Instance: IInstanceReferenceOperation } field when _frame.State.Fields is { } fields:
                fields[field.Field.OriginalDefinition] = Value.Unknown;
                break;
            case IArrayElementReferenceOperation element:
                Forget(element.ArrayReference);
                break;
            case IDeclarationExpressionOperation declaration:
                foreach (var local in declaration.Descendants().OfType<ILocalReferenceOperation>()) _frame.State.Locals[local.Local] = Value.Unknown;
                break;
        }
    }

    private void Step()
    {
        if (++_steps > MaxSteps) throw new BudgetExceeded();
        if ((_steps & 255) == 0) _ct.ThrowIfCancellationRequested();
    }

    // ----- diagnostics and coverage -------------------------------------------------------------------------------

    private void Report(ShapeError error, string subject, Location location)
    {
        var info = DiagnosticInfo.Create(DiagnosticDescriptors.ShapeMismatch, location, subject, error.Expected, error.Received);
        string key = info.Id + "|" + info.Location?.Span + "|" + info.Location?.FilePath + "|" + string.Join("|", info.Arguments);
        if (_reported.Add(key)) Diagnostics.Add(info);
    }

    internal void Warn(DiagnosticInfo info)
    {
        string key = info.Id + "|" + info.Location?.Span + "|" + info.Location?.FilePath;
        if (_reported.Add(key)) Diagnostics.Add(info);
    }

    private void Covered(IOperation operation, Value? value = null)
    {
        if (_frame.Top) Coverage.Reached(operation, value);
    }
}

/// <summary>How far the top method was followed, and why inference stopped there.</summary>
internal sealed class Coverage
{
    public int LastLine { get; private set; }

    public int? StopLine { get; private set; }

    public string? StopReason { get; private set; }

    public void Reached(IOperation operation, Value? value)
    {
        if (value is not null && value is not TensorValue && value is not TupleValue) return;
        int line = operation.Syntax.GetLocation().GetLineSpan().EndLinePosition.Line + 1;
        if (line > LastLine) LastLine = line;
    }

    public void Stop(IOperation operation, string reason, bool top)
    {
        if (StopReason is not null || !top) return;
        StopLine = operation.Syntax.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
        StopReason = reason;
    }
}

/// <summary>Small helpers over Roslyn operations.</summary>
internal static class Operations
{
    public static IOperation? Unwrap(IOperation? operation)
    {
        while (true)
        {
            switch (operation)
            {
                case IConversionOperation conversion:
                    operation = conversion.Operand;
                    continue;
                case IParenthesizedOperation parenthesized:
                    operation = parenthesized.Operand;
                    continue;
                default:
                    return operation;
            }
        }
    }

    public static long? ConstantLong(IOperation? operation)
    {
        if (operation is null) return null;
        var constant = operation.ConstantValue;
        if (!constant.HasValue) constant = Unwrap(operation)?.ConstantValue ?? default;
        if (!constant.HasValue) return null;
        return constant.Value switch
        {
            int i => i,
            long l => l,
            short s => s,
            byte b => b,
            uint u => u,
            _ => null,
        };
    }
}
