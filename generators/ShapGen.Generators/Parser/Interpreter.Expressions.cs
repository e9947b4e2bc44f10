using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Parser;

internal sealed partial class Interpreter
{
    // ----- expressions --------------------------------------------------------------------------------------------

    private Value Eval(IOperation? operation)
    {
        if (operation is null) return Value.Unknown;
        Step();
        if (operation.ConstantValue.HasValue && operation is not IAssignmentOperation)
            return Constant(operation.ConstantValue.Value, operation.Type);
        switch (operation)
        {
            case IConversionOperation conversion:
                return Eval(conversion.Operand);
            case IParenthesizedOperation parenthesized:
                return Eval(parenthesized.Operand);
            case ILocalReferenceOperation local:
                return _frame.State.Locals.TryGetValue(local.Local, out var l) ? l : Value.Unknown;
            case IParameterReferenceOperation parameter:
                return _frame.State.Locals.TryGetValue(parameter.Parameter, out var p) ? p : Value.Unknown;
            case IInstanceReferenceOperation:
                return _frame.Self is { } self ? new ModuleValue(self.Type.Name, obj: self, path: _frame.SelfPath) : Value.Unknown;
            case IFieldReferenceOperation field:
                return ReadField(field);
            case IPropertyReferenceOperation property:
                return ReadProperty(property);
            case IArrayElementReferenceOperation element:
            {
                var array = Eval(element.ArrayReference);
                var indexes = element.Indices.Select(Eval).ToList();
                return array is ListValue list && indexes.Count == 1 && Arguments.Constant(indexes[0]) is { } i ? Element(list.Items, i) : Value.Unknown;
            }
            case IArrayCreationOperation array:
                return array.Initializer is { } init ? Eval(init) : Value.Unknown;
            case IArrayInitializerOperation initializer:
                return new ListValue(initializer.ElementValues.Select(Eval).ToArray());
            case IFieldInitializerOperation fieldInitializer:
                return Eval(fieldInitializer.Value);
            case ITupleOperation tuple:
                return new TupleValue(tuple.Elements.Select(Eval).ToArray());
            case IObjectCreationOperation creation:
                return Create(creation);
            case IInvocationOperation invocation:
                return Invoke(invocation);
            case IBinaryOperation binary:
                return Binary(binary);
            case IUnaryOperation unary:
            {
                var operand = Eval(unary.Operand);
                return unary.OperatorKind switch
                {
                    UnaryOperatorKind.Minus when operand is IntValue { Constant: { } c } => new IntValue(-c),
                    UnaryOperatorKind.Not when operand is ConstantValue { Constant: bool b } => new ConstantValue(!b),
                    UnaryOperatorKind.Minus or UnaryOperatorKind.Plus when operand is TensorValue => operand,
                    _ => Value.Unknown,
                };
            }
            case IConditionalOperation conditional:
            {
                Value whenTrue = Value.Unknown, whenFalse = Value.Unknown;
                var test = Eval(conditional.Condition);
                if (test is ConstantValue { Constant: bool b }) return b ? Eval(conditional.WhenTrue) : Eval(conditional.WhenFalse);
                Branch(conditional.Condition, () => whenTrue = Eval(conditional.WhenTrue), () => whenFalse = Eval(conditional.WhenFalse));
                return Value.Join(whenTrue, whenFalse);
            }
            case ISimpleAssignmentOperation assignment:
            {
                var value = Eval(assignment.Value);
                Assign(assignment.Target, value);
                return value;
            }
            case IDeconstructionAssignmentOperation deconstruction:
            {
                var value = Eval(deconstruction.Value);
                var target = deconstruction.Target is IDeclarationExpressionOperation { Expression: ITupleOperation declared } ? declared : deconstruction.Target as ITupleOperation;
                if (target is null) Havoc(deconstruction);
                else Deconstruct(target, value);
                return value;
            }
            case ICompoundAssignmentOperation compound:
            {
                var value = Combine(compound.OperatorKind, Eval(compound.Target), Eval(compound.Value), compound);
                Assign(compound.Target, value);
                return value;
            }
            case IIncrementOrDecrementOperation increment:
            {
                var old = Eval(increment.Target);
                var value = old is IntValue { Constant: { } c } ? new IntValue(increment.Kind == OperationKind.Increment ? c + 1 : c - 1) : Value.Unknown;
                Assign(increment.Target, value);
                return increment.IsPostfix ? old : value;
            }
            case IInterpolatedStringOperation interpolated:
            {
                var text = new System.Text.StringBuilder();
                foreach (var part in interpolated.Parts)
                {
                    if (part is IInterpolatedStringTextOperation { Text: var t } && t.ConstantValue.Value is string s) text.Append(s);
                    else if (part is IInterpolationOperation { Expression: var e, Alignment: null, FormatString: null } && Eval(e) is { } v && Text(v) is { } vs) text.Append(vs);
                    else return Value.Unknown;
                }
                return new ConstantValue(text.ToString());
            }
            case IDefaultValueOperation:
                return new ConstantValue(null);
            case IIsPatternOperation isPattern:
            {
                var value = Eval(isPattern.Value);
                bool negated = isPattern.Pattern is INegatedPatternOperation;
                var pattern = isPattern.Pattern is INegatedPatternOperation n ? n.Pattern : isPattern.Pattern;
                if (pattern is not IConstantPatternOperation { Value.ConstantValue: { HasValue: true, Value: null } }) return Value.Unknown;
                bool? isNull = value switch
                {
                    ConstantValue { Constant: null } => true,
                    ModuleValue or TensorValue or ListValue or TupleValue => false,
                    _ => null,
                };
                return isNull is { } result ? new ConstantValue(result != negated) : Value.Unknown;
            }
            case IDeclarationExpressionOperation declaration:
                return Eval(declaration.Expression);
            case ICoalesceOperation coalesce:
            {
                var value = Eval(coalesce.Value);
                if (value is ConstantValue { Constant: null }) return Eval(coalesce.WhenNull);
                var fallback = Eval(coalesce.WhenNull);
                return value is ModuleValue or TensorValue or ListValue ? value : Value.Join(value, fallback);
            }
            case IAnonymousFunctionOperation:
            case IDelegateCreationOperation:
            case INameOfOperation:
                return Value.Unknown;
            default:
                if (operation.Syntax is CollectionExpressionSyntax collection)
                    return CollectionExpression(collection);
                foreach (var child in operation.ChildOperations) Eval(child);
                Havoc(operation);
                return Value.Unknown;
        }
    }

    private Value CollectionExpression(CollectionExpressionSyntax collection)
    {
        var items = new List<Value>();
        foreach (var element in collection.Elements)
        {
            if (element is not ExpressionElementSyntax expression) return Value.Unknown;
            items.Add(Eval(_frame.Model.GetOperation(expression.Expression, _ct)));
        }
        return new ListValue(items);
    }

    private static Value Constant(object? value, ITypeSymbol? type)
    {
        if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType)
        {
            var member = enumType.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, value));
            return member is null ? Value.Unknown : new EnumValue(enumType.Name, member.Name);
        }
        return value switch
        {
            int i => new IntValue(i),
            long l => new IntValue(l),
            short s => new IntValue(s),
            byte b => new IntValue(b),
            uint u => new IntValue(u),
            float f => new ConstantValue((double)f),
            _ => new ConstantValue(value),
        };
    }

    private static string? Text(Value value) => value switch
    {
        IntValue { Constant: { } c } => ShapeText.N(c),
        ConstantValue { Constant: string s } => s,
        _ => null,
    };

    private static Value Element(IReadOnlyList<Value> items, long index) =>
        index >= 0 && index < items.Count ? items[(int)index] : index < 0 && -index <= items.Count ? items[items.Count + (int)index] : Value.Unknown;

    private Value Binary(IBinaryOperation binary)
    {
        if (binary.OperatorKind is BinaryOperatorKind.ConditionalAnd or BinaryOperatorKind.ConditionalOr)
        {
            var left = Eval(binary.LeftOperand);
            bool and = binary.OperatorKind == BinaryOperatorKind.ConditionalAnd;
            if (left is ConstantValue { Constant: bool l } && l != and) return new ConstantValue(l);
            var right = Eval(binary.RightOperand);
            if (left is ConstantValue { Constant: bool } && right is ConstantValue { Constant: bool r }) return new ConstantValue(r);
            return Value.Unknown;
        }
        return Combine(binary.OperatorKind, Eval(binary.LeftOperand), Eval(binary.RightOperand), binary);
    }

    private Value Combine(BinaryOperatorKind kind, Value left, Value right, IOperation at)
    {
        if (left is IntValue { Constant: { } a } && right is IntValue { Constant: { } b })
        {
            switch (kind)
            {
                case BinaryOperatorKind.Add: return new IntValue(a + b);
                case BinaryOperatorKind.Subtract: return new IntValue(a - b);
                case BinaryOperatorKind.Multiply: return new IntValue(a * b);
                case BinaryOperatorKind.Divide: return b == 0 ? Value.Unknown : new IntValue(a / b);
                case BinaryOperatorKind.Remainder: return b == 0 ? Value.Unknown : new IntValue(a % b);
                case BinaryOperatorKind.Equals: return new ConstantValue(a == b);
                case BinaryOperatorKind.NotEquals: return new ConstantValue(a != b);
                case BinaryOperatorKind.LessThan: return new ConstantValue(a < b);
                case BinaryOperatorKind.LessThanOrEqual: return new ConstantValue(a <= b);
                case BinaryOperatorKind.GreaterThan: return new ConstantValue(a > b);
                case BinaryOperatorKind.GreaterThanOrEqual: return new ConstantValue(a >= b);
            }
        }
        if (kind is BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals)
        {
            bool? equal = (left, right) switch
            {
                (ConstantValue { Constant: var x }, ConstantValue { Constant: var y }) => Equals(x, y),
                (EnumValue x, EnumValue y) => x.Equals(y),
                (ModuleValue or TensorValue or ListValue or ObjectValue, ConstantValue { Constant: null }) => false,
                (ConstantValue { Constant: null }, ModuleValue or TensorValue or ListValue or ObjectValue) => false,
                _ => null,
            };
            if (equal is { } e) return new ConstantValue(kind == BinaryOperatorKind.Equals ? e : !e);
        }
        if (kind is BinaryOperatorKind.Add && left is ConstantValue { Constant: string s1 } && Text(right) is { } s2) return new ConstantValue(s1 + s2);
        if (kind is BinaryOperatorKind.Add or BinaryOperatorKind.Subtract or BinaryOperatorKind.Multiply or BinaryOperatorKind.Divide or BinaryOperatorKind.Remainder
                or BinaryOperatorKind.LessThan or BinaryOperatorKind.LessThanOrEqual or BinaryOperatorKind.GreaterThan or BinaryOperatorKind.GreaterThanOrEqual
                or BinaryOperatorKind.And or BinaryOperatorKind.Or or BinaryOperatorKind.ExclusiveOr &&
            (left is TensorValue || right is TensorValue))
        {
            if (left is not TensorValue lt) return right is TensorValue && left is IntValue or ConstantValue ? right : Value.Unknown;
            var result = TensorOps.Broadcast(lt.Dims, right, out var error);
            if (error is not null) Report(error, "Operator '" + OperatorText(kind) + "'", at.Syntax.GetLocation());
            return result;
        }
        if (left is BatchSizeValue batch && right is IntValue { Constant: { } k } && k > 0)
        {
            if (kind == BinaryOperatorKind.Multiply) return new BatchSizeValue(batch.Factor * k);
            if (kind == BinaryOperatorKind.Divide && batch.Factor % k == 0) return batch.Factor == k ? new IntValue(null) : new BatchSizeValue(batch.Factor / k);
        }
        if (right is BatchSizeValue batch2 && left is IntValue { Constant: { } k2 } && k2 > 0 && kind == BinaryOperatorKind.Multiply)
            return new BatchSizeValue(batch2.Factor * k2);
        if (left is IntValue or BatchSizeValue && right is IntValue or BatchSizeValue &&
            kind is BinaryOperatorKind.Add or BinaryOperatorKind.Subtract or BinaryOperatorKind.Multiply or BinaryOperatorKind.Divide or BinaryOperatorKind.Remainder)
            return new IntValue(null);
        return Value.Unknown;
    }

    private static string OperatorText(BinaryOperatorKind kind) => kind switch
    {
        BinaryOperatorKind.Add => "+",
        BinaryOperatorKind.Subtract => "-",
        BinaryOperatorKind.Multiply => "*",
        BinaryOperatorKind.Divide => "/",
        BinaryOperatorKind.Remainder => "%",
        BinaryOperatorKind.LessThan => "<",
        BinaryOperatorKind.LessThanOrEqual => "<=",
        BinaryOperatorKind.GreaterThan => ">",
        BinaryOperatorKind.GreaterThanOrEqual => ">=",
        BinaryOperatorKind.And => "&",
        BinaryOperatorKind.Or => "|",
        _ => "^",
    };

    private void Assign(IOperation target, Value value)
    {
        switch (Operations.Unwrap(target))
        {
            case ILocalReferenceOperation local:
                _frame.State.Locals[local.Local] = value;
                break;
            case IParameterReferenceOperation parameter:
                _frame.State.Locals[parameter.Parameter] = value;
                break;
            case IFieldReferenceOperation { Instance: IInstanceReferenceOperation } field when _frame.State.Fields is { } fields:
                fields[field.Field.OriginalDefinition] = value;
                break;
            case IFieldReferenceOperation { Instance: { } instance } field when Eval(instance) is ModuleValue { Object: { } obj }:
                obj.Fields[field.Field.OriginalDefinition] = value;
                break;
            case IDeclarationExpressionOperation { Expression: ITupleOperation tuple }:
                Deconstruct(tuple, value);
                break;
            case ITupleOperation tuple:
                Deconstruct(tuple, value);
                break;
            case { } other:
                Forget(other);
                break;
        }
    }

    private void Deconstruct(ITupleOperation target, Value value)
    {
        var items = value as TupleValue;
        for (int i = 0; i < target.Elements.Length; i++)
        {
            var element = target.Elements[i];
            var item = items is not null && i < items.Items.Count ? items.Items[i] : Value.Unknown;
            switch (element)
            {
                case IDeclarationExpressionOperation { Expression: ILocalReferenceOperation local }:
                    _frame.State.Locals[local.Local] = item;
                    break;
                case IDeclarationExpressionOperation { Expression: ITupleOperation nested }:
                    Deconstruct(nested, item);
                    break;
                case IDiscardOperation:
                    break;
                default:
                    Assign(element, item);
                    break;
            }
        }
    }

    private Value ReadField(IFieldReferenceOperation reference)
    {
        var field = reference.Field;
        if (field.ContainingType is { IsTupleType: true })
        {
            var tuple = reference.Instance is null ? null : Eval(reference.Instance) as TupleValue;
            int index = TupleIndex(field.CorrespondingTupleField?.Name ?? field.Name);
            return tuple is not null && index >= 0 && index < tuple.Items.Count ? tuple.Items[index] : Value.Unknown;
        }
        if (field.IsStatic)
            return field.IsReadOnly ? StaticField(field.OriginalDefinition) : Value.Unknown;
        Dictionary<IFieldSymbol, Value>? fields;
        string? ownerPath;
        if (reference.Instance is IInstanceReferenceOperation)
        {
            fields = _frame.State.Fields;
            ownerPath = _frame.SelfPath;
        }
        else if (reference.Instance is not null && Eval(reference.Instance) is ModuleValue { Object: { } obj } owner)
        {
            fields = obj.Fields;
            ownerPath = owner.Path;
        }
        else return Value.Unknown;
        if (fields is null || !fields.TryGetValue(field.OriginalDefinition, out var value)) return Value.Unknown;
        return value is ModuleValue module ? module.At(ownerPath is null ? null : Join(ownerPath, ComponentName(field))) : value;
    }

    private static int TupleIndex(string name) =>
        name.StartsWith("Item", StringComparison.Ordinal) && int.TryParse(name.Substring(4), out var n) ? n - 1 : -1;

    /// <summary>The name TorchSharp's RegisterComponents gives a field: [ComponentName(Name = …)] or the field's name.</summary>
    internal static string ComponentName(IFieldSymbol field) =>
        field.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == "ComponentNameAttribute")?.NamedArguments
            .FirstOrDefault(n => n.Key == "Name").Value.Value as string ?? field.Name;

    internal static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    private Value StaticField(IFieldSymbol field)
    {
        if (_statics.TryGetValue(field, out var cached)) return cached;
        _statics[field] = Value.Unknown;
        var declarator = field.DeclaringSyntaxReferences.Select(r => r.GetSyntax(_ct)).OfType<VariableDeclaratorSyntax>().FirstOrDefault();
        if (declarator?.Initializer is not { } initializer) return Value.Unknown;
        var model = _models.For(declarator.SyntaxTree);
        var value = InFrame(new Frame(model, null, null, top: false), () => Eval(model.GetOperation(initializer, _ct)));
        return _statics[field] = value;
    }

    private Value ReadProperty(IPropertyReferenceOperation reference)
    {
        var property = reference.Property;
        var instance = reference.Instance is null ? null : Eval(reference.Instance);
        var indexes = reference.Arguments.Select(a => Eval(a.Value)).ToList();
        if (instance is TensorValue tensor)
        {
            if (property.IsIndexer) return Index(tensor, indexes, reference);
            return property.Name switch
            {
                "shape" => TensorOps.Shape(tensor),
                "Dimensions" or "ndim" => new IntValue(tensor.Rank),
                _ => Value.Unknown,
            };
        }
        if (instance is ListValue list)
        {
            if (property.IsIndexer && indexes.Count == 1 && Arguments.Constant(indexes[0]) is { } i) return Element(list.Items, i);
            if (property.Name is "Length" or "Count" or "LongLength") return new IntValue(list.Items.Count);
        }
        if (instance is TupleValue tuple && TupleIndex(property.Name) is var index && index >= 0 && index < tuple.Items.Count)
            return tuple.Items[index];
        return Value.Unknown;
    }

    /// <summary>x[i], x[i, j]: integer indexes drop leading dimensions.</summary>
    private Value Index(TensorValue tensor, List<Value> indexes, IOperation at)
    {
        var flat = indexes.Count == 1 && indexes[0] is ListValue list ? list.Items.ToList() : indexes;
        if (flat.Count == 0 || flat.Count > tensor.Rank || flat.Any(v => Arguments.Constant(v) is null)) return Value.Unknown;
        for (int i = 0; i < flat.Count; i++)
        {
            long index = Arguments.Constant(flat[i])!.Value;
            long size = tensor.Dims[i];
            if (size >= 0 && (index >= size || index < -size))
            {
                Report(new ShapeError($"an index below {ShapeText.N(size)} in dimension {ShapeText.N(i)}", $"{ShapeText.N(index)} (shape {ShapeText.Full(tensor.Dims)})"), "Indexing", at.Syntax.GetLocation());
                return Value.Unknown;
            }
        }
        return new TensorValue(tensor.Dims.Skip(flat.Count).ToArray());
    }

    // ----- calls --------------------------------------------------------------------------------------------------

    private Value Invoke(IInvocationOperation invocation)
    {
        var method = invocation.TargetMethod;
        string name = method.Name;
        var receiver = invocation.Instance is null ? null : Eval(invocation.Instance);
        var ordered = invocation.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? int.MaxValue).ToList();
        var values = ordered.Select(a => Eval(a.Value)).ToList();
        var location = (invocation.Syntax as InvocationExpressionSyntax)?.GetLocation() ?? invocation.Syntax.GetLocation();

        if (name is "call" or "forward" && invocation.Instance is not null && Symbols.IsModule(method.ContainingType) && receiver is ModuleValue module)
        {
            if (name == "forward" && Operations.Unwrap(invocation.Instance) is IFieldReferenceOperation fieldReference )
                Warn(DiagnosticInfo.Create(DiagnosticDescriptors.ForwardBypassesHooks,
                    (invocation.Syntax as InvocationExpressionSyntax)?.Expression is MemberAccessExpressionSyntax member ? member.Name.GetLocation() : location,
                    fieldReference.Field.Name, "DeepExplainer and layer explanation"));
            return ApplyModule(module, values, location, invocation);
        }

        bool onTensor = !method.IsStatic && Symbols.IsTensor(method.ContainingType);
        bool onTorch = method.IsStatic && (Symbols.IsTorch(method.ContainingType) || Symbols.IsFunctional(method.ContainingType) ||
                                           method.ContainingType?.Name == "special" && Symbols.IsTorch(method.ContainingType.ContainingType));
        if (onTensor || onTorch)
            return TensorCall(name, onTensor, receiver, ordered, values, location, invocation);

        if (method.IsStatic && Symbols.IsNn(method.ContainingType) && Symbols.IsModule(method.ReturnType))
        {
            var args = ArgumentsOf(ordered, values, skip: -1);
            return ModuleFactory.Create(name, args, name == "Sequential" ? Children(args.InOrder.FirstOrDefault()) : null);
        }

        if (receiver is ListValue list)
        {
            switch (name)
            {
                case "Add" when values.Count == 1:
                    // Other variables holding the same list (aliases) can no longer be trusted.
                    foreach (var alias in _frame.State.Locals.Where(p => ReferenceEquals(p.Value, list)).Select(p => p.Key).ToList())
                        _frame.State.Locals[alias] = Value.Unknown;
                    Assign(invocation.Instance!, new ListValue(list.Items.Concat(new[] { values[0] }).ToArray()));
                    return Value.Unknown;
                case "ToArray" or "ToList" or "AsReadOnly":
                    return list;
            }
        }
        if (name == "ToString" && receiver is IntValue { Constant: { } n }) return new ConstantValue(ShapeText.N(n));

        // A list passed to code that may mutate it is not known afterwards.
        for (int i = 0; i < ordered.Count; i++)
            if (values[i] is ListValue && Operations.Unwrap(ordered[i].Value) is ILocalReferenceOperation or IParameterReferenceOperation or IFieldReferenceOperation)
                Forget(ordered[i].Value);

        if (Body(method, out _) is not null)
        {
            ObjectValue? self = null;
            string? selfPath = null;
            if (!method.IsStatic)
            {
                if (receiver is ModuleValue { Object: { } obj } owner) { self = obj; selfPath = owner.Path; }
                if (self is null) return Unknown(invocation, $"'{name}' is called on an object the inference does not know");
            }
            return InvokeMethod(method, self, selfPath, values, invocation);
        }
        foreach (var argument in ordered.Where(a => a.Parameter?.RefKind is RefKind.Ref or RefKind.Out)) Forget(argument.Value);
        if (receiver is TensorValue || values.Any(v => v is TensorValue)) Coverage.Stop(invocation, $"'{name}' is not followed (no source or no shape rule)", _frame.Top);
        return Value.Unknown;
    }

    private Value Unknown(IOperation at, string reason)
    {
        Coverage.Stop(at, reason, _frame.Top);
        return Value.Unknown;
    }

    /// <summary>Arguments by name; <paramref name="skip"/> is the ordinal of the subject parameter, left out.</summary>
    private static Arguments ArgumentsOf(List<IArgumentOperation> ordered, List<Value> values, int skip)
    {
        var byName = new Dictionary<string, Value>(StringComparer.Ordinal);
        var inOrder = new List<Value>();
        for (int i = 0; i < ordered.Count; i++)
        {
            if (ordered[i].Parameter is not { } parameter || parameter.Ordinal == skip) continue;
            byName[parameter.Name] = values[i];
            inOrder.Add(values[i]);
        }
        return new Arguments(byName, inOrder);
    }

    private static IReadOnlyList<(string, Value)>? Children(Value? argument)
    {
        if (argument is not ListValue list) return null;
        var children = new List<(string, Value)>();
        foreach (var item in list.Items)
        {
            if (item is ModuleValue) children.Add((ModuleFactory.Index(children.Count), item));
            else if (item is TupleValue { Items.Count: 2 } pair && pair.Items[0] is ConstantValue { Constant: string childName } && pair.Items[1] is ModuleValue child) children.Add((childName, child));
            else return null;
        }
        return children;
    }

    private Value TensorCall(string name, bool onTensor, Value? receiver, List<IArgumentOperation> ordered, List<Value> values, Location location, IOperation at)
    {
        int subjectIndex = onTensor ? -1 : ordered.FindIndex(a => a.Parameter?.Ordinal == 0 && Symbols.IsTensor(a.Parameter.Type));
        var subject = onTensor ? receiver! : subjectIndex >= 0 ? values[subjectIndex] : Value.Unknown;
        var args = ArgumentsOf(ordered, values, onTensor ? -1 : subjectIndex >= 0 ? 0 : -1);
        if (subject is TensorValue tensor)
        {
            switch (name)
            {
                case "size" when args.InOrder.Count == 0:
                    return TensorOps.Shape(tensor);
                case "size" when args.InOrder.Count == 1 && Arguments.Constant(args.InOrder[0]) is { } d:
                    return TensorOps.Shape(tensor) is ListValue dims && (d >= -tensor.Rank && d < tensor.Rank) ? Element(dims.Items, d) : Value.Unknown;
                case "dim":
                    return new IntValue(tensor.Rank);
            }
        }
        var result = TensorOps.Apply(name, subject, args, out var error);
        if (error is not null) Report(error, name, location);
        else if (result == Value.Unknown && (subject is TensorValue || values.Any(v => v is TensorValue)))
            Coverage.Stop(at, $"'{name}' has no shape rule for these arguments", _frame.Top);
        return result;
    }

    private Value Create(IObjectCreationOperation creation)
    {
        var values = creation.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? int.MaxValue).Select(a => Eval(a.Value)).ToList();
        if (creation.Type is not INamedTypeSymbol type) return Value.Unknown;
        if (type.Name == "List" && type.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic")
        {
            var items = new List<Value>();
            if (values.Count == 1 && values[0] is ListValue source) items.AddRange(source.Items);
            else if (values.Count > 0 && creation.Constructor?.Parameters[0].Type.SpecialType != SpecialType.System_Int32) return Value.Unknown;
            if (creation.Initializer is { } initializer)
            {
                foreach (var element in initializer.Initializers)
                {
                    if (element is IInvocationOperation { TargetMethod.Name: "Add", Arguments.Length: 1 } add) items.Add(Eval(add.Arguments[0].Value));
                    else return Value.Unknown;
                }
            }
            return new ListValue(items);
        }
        if (Symbols.IsModule(type) && type.DeclaringSyntaxReferences.Length > 0 && creation.Initializer is null)
        {
            var obj = new ObjectValue(type);
            if (!RunConstructor(type, creation.Constructor, obj, values)) return Value.Unknown;
            return new ModuleValue(type.Name, obj: obj);
        }
        return Value.Unknown;
    }

    /// <summary>Runs a constructor of a user class on <paramref name="obj"/>: this(...)/base(...) chains, field initializers, body.</summary>
    private bool RunConstructor(INamedTypeSymbol type, IMethodSymbol? constructor, ObjectValue obj, IReadOnlyList<Value> arguments)
    {
        if (_depth >= MaxDepth) return false;
        _depth++;
        try
        {
            var definition = constructor?.OriginalDefinition;
            var syntax = definition?.DeclaringSyntaxReferences.Select(r => r.GetSyntax(_ct)).OfType<ConstructorDeclarationSyntax>().FirstOrDefault();
            if (syntax is null)
            {
                if (definition is not null && definition.DeclaringSyntaxReferences.Length > 0) return false; // a primary constructor
                RunFieldInitializers(type.OriginalDefinition, obj);
                RunBase(type, obj, null, null);
                return true;
            }
            var model = _models.For(syntax.SyntaxTree);
            if (model.GetOperation(syntax, _ct) is not IConstructorBodyOperation body) return false;
            var frame = new Frame(model, obj, null, top: false);
            Bind(frame, definition!, arguments);
            return InFrame(frame, () =>
            {
                var initializer = (body.Initializer as IExpressionStatementOperation)?.Operation as IInvocationOperation;
                bool chainsToThis = syntax.Initializer?.ThisOrBaseKeyword.IsKind(SyntaxKind.ThisKeyword) == true;
                var chained = initializer?.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? int.MaxValue).Select(a => Eval(a.Value)).ToList();
                if (chainsToThis)
                {
                    if (!RunConstructor(type, initializer?.TargetMethod, obj, chained ?? new List<Value>())) return false;
                }
                else
                {
                    RunFieldInitializers(type.OriginalDefinition, obj);
                    RunBase(type, obj, initializer?.TargetMethod, chained);
                }
                Exec(body.BlockBody ?? body.ExpressionBody);
                return true;
            });
        }
        finally
        {
            _depth--;
        }
    }

    private void RunBase(INamedTypeSymbol type, ObjectValue obj, IMethodSymbol? baseConstructor, List<Value>? arguments)
    {
        var baseType = type.BaseType;
        if (baseType is null || baseType.DeclaringSyntaxReferences.Length == 0) return;
        var target = baseConstructor ?? baseType.InstanceConstructors.FirstOrDefault(c => c.Parameters.Length == 0);
        RunConstructor(baseType, target, obj, arguments ?? new List<Value>());
    }

    private void RunFieldInitializers(INamedTypeSymbol type, ObjectValue obj)
    {
        foreach (var field in type.GetMembers().OfType<IFieldSymbol>().Where(f => !f.IsStatic && !f.IsImplicitlyDeclared))
        {
            if (!obj.Fields.ContainsKey(field.OriginalDefinition)) obj.Fields[field.OriginalDefinition] = DefaultOf(field.Type);
            var declarator = field.DeclaringSyntaxReferences.Select(r => r.GetSyntax(_ct)).OfType<VariableDeclaratorSyntax>().FirstOrDefault();
            if (declarator?.Initializer is not { } initializer) continue;
            var model = _models.For(declarator.SyntaxTree);
            obj.Fields[field.OriginalDefinition] = InFrame(new Frame(model, obj, null, top: false), () => Eval(model.GetOperation(initializer, _ct))) ?? Value.Unknown;
        }
    }

    /// <summary>The value a field holds before any assignment (C#'s default).</summary>
    private static Value DefaultOf(ITypeSymbol type) => type.SpecialType switch
    {
        SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_Int16 or SpecialType.System_Byte => new IntValue(0),
        SpecialType.System_Boolean => new ConstantValue(false),
        _ => type.IsReferenceType ? new ConstantValue(null) : Value.Unknown,
    };

    private T InFrame<T>(Frame frame, Func<T> run)
    {
        var saved = _frame;
        _frame = frame;
        try
        {
            return run();
        }
        catch (GiveUp)
        {
            return default!;
        }
        finally
        {
            _frame = saved;
        }
    }

    private static void Bind(Frame frame, IMethodSymbol method, IReadOnlyList<Value> arguments)
    {
        var parameters = method.OriginalDefinition.Parameters;
        for (int i = 0; i < parameters.Length; i++)
            frame.State.Locals[parameters[i]] = i < arguments.Count ? arguments[i] : Value.Unknown;
    }

    private IOperation? Body(IMethodSymbol method, out SemanticModel? model)
    {
        model = null;
        var syntax = method.OriginalDefinition.DeclaringSyntaxReferences.Select(r => r.GetSyntax(_ct)).FirstOrDefault(s => s is MethodDeclarationSyntax or LocalFunctionStatementSyntax);
        if (syntax is null) return null;
        model = _models.For(syntax.SyntaxTree);
        return model.GetOperation(syntax, _ct) switch
        {
            IMethodBodyOperation body => (IOperation?)body.BlockBody ?? body.ExpressionBody,
            ILocalFunctionOperation local => local.Body,
            _ => null,
        };
    }

    /// <summary>Follows a user method with abstract arguments, memoised per (method, receiver, path, arguments).</summary>
    private Value InvokeMethod(IMethodSymbol method, ObjectValue? self, string? selfPath, IReadOnlyList<Value> arguments, IOperation at)
    {
        var definition = method.OriginalDefinition;
        var body = Body(definition, out var model);
        if (body is null || model is null) return Value.Unknown;
        var key = ((ISymbol)definition, (object?)self, selfPath, string.Join(";", arguments.Select(Describe)));
        if (_memo.TryGetValue(key, out var cached)) return cached;
        if (_depth >= MaxDepth || !_inProgress.Add(definition)) return Unknown(at, $"'{method.Name}' is recursive or nested too deeply");
        _depth++;
        try
        {
            var frame = new Frame(model, self, selfPath, top: false);
            Bind(frame, definition, arguments);
            var result = InFrame(frame, () =>
            {
                Exec(body);
                return frame.Returns.Count == 0 ? Value.Unknown : frame.Returns.Select(r => r.Value).Aggregate(Value.Join);
            }) ?? Value.Unknown;
            _memo[key] = result;
            if (result == Value.Unknown && arguments.Any(a => a is TensorValue)) Coverage.Stop(at, $"shapes are lost inside '{method.Name}'", _frame.Top);
            return result;
        }
        finally
        {
            _depth--;
            _inProgress.Remove(definition);
        }
    }

    private static string Describe(Value value) => value switch
    {
        TensorValue t => ShapeText.Full(t.Dims),
        ModuleValue m => "module#" + System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(m.Object ?? (object?)m.Layer ?? m).ToString(System.Globalization.CultureInfo.InvariantCulture) + "@" + m.Path,
        TupleValue t => "(" + string.Join(",", t.Items.Select(Describe)) + ")",
        ListValue l => "[" + string.Join(",", l.Items.Select(Describe)) + "]",
        _ => value.GetType().Name + ":" + value,
    };

    /// <summary>Calls a module: applies its rule, children or forward, and records its input and output shapes at its path.</summary>
    private Value ApplyModule(ModuleValue module, IReadOnlyList<Value> arguments, Location location, IOperation at)
    {
        if (module.Path is not { Length: > 0 } path) return ApplyModuleCore(module, arguments, location, at);
        Record(LayerInputs, path, arguments.FirstOrDefault());
        var result = ApplyModuleCore(module, arguments, location, at);
        Record(LayerOutputs, path, result);
        return result;
    }

    private Value ApplyModuleCore(ModuleValue module, IReadOnlyList<Value> arguments, Location location, IOperation at)
    {
        if (module.Children is { } children)
        {
            var current = arguments.FirstOrDefault() ?? Value.Unknown;
            foreach (var (name, child) in children)
            {
                if (child is not ModuleValue childModule) return Unknown(at, $"a child of Sequential '{module.Path}' is not known");
                current = ApplyModule(childModule.At(module.Path is null ? null : Join(module.Path, name)), new[] { current }, location, at);
            }
            return current;
        }
        if (module.Object is { } obj)
        {
            var forward = FindForward(obj.Type, arguments.Count);
            if (forward is null) return Unknown(at, $"'{obj.Type.Name}' has no forward the inference can follow");
            var args = arguments.ToList();
            while (args.Count < forward.Parameters.Length) args.Add(Value.Unknown);
            return InvokeMethod(forward, obj, module.Path, args, at);
        }
        if (module.Layer is null)
            return arguments.Any(a => a is TensorValue) ? Unknown(at, $"{module.Kind} has no shape rule (or its arguments are not constants)") : Value.Unknown;
        var result = module.Layer.Apply(arguments, out var error);
        if (error is not null) Report(error, module.Path is { } p ? $"{module.Kind} '{p}'" : module.Kind, location);
        return result;
    }

    private static IMethodSymbol? FindForward(INamedTypeSymbol type, int arguments)
    {
        for (var t = type; t is not null && t.DeclaringSyntaxReferences.Length > 0; t = t.BaseType)
        {
            var forward = t.GetMembers("forward").OfType<IMethodSymbol>()
                .FirstOrDefault(m => !m.IsStatic && m.Parameters.Length >= arguments && m.Parameters.Skip(arguments).All(p => p.HasExplicitDefaultValue) && m.DeclaringSyntaxReferences.Length > 0);
            if (forward is not null) return forward;
        }
        return null;
    }

    /// <summary>Records a per-sample shape at a path; a second, different or unknown shape makes it unknown.</summary>
    private static void Record(Dictionary<string, long[]?> shapes, string path, Value? value)
    {
        var perSample = (value as TensorValue)?.PerSample;
        if (shapes.TryGetValue(path, out var previous))
        {
            if (previous is not null && (perSample is null || !previous.SequenceEqual(perSample))) shapes[path] = null;
        }
        else shapes[path] = perSample;
    }
}
