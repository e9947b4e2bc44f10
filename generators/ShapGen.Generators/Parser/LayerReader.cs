using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace ShapGen.Generators.Parser;

/// <summary>Reads a module-creating expression (<c>nn.Conv2d(1, 32, 3)</c>, <c>nn.Sequential(...)</c>) into a <see cref="Layer"/>.</summary>
internal static class LayerReader
{
    private static readonly HashSet<string> SameShape = new()
    {
        "ReLU", "ReLU6", "Sigmoid", "Tanh", "ELU", "LeakyReLU", "GELU", "SiLU", "Softplus", "Softmax", "LogSoftmax", "Dropout",
        "Dropout2d", "Identity", "Hardtanh", "Mish", "SELU", "CELU", "Hardswish", "Hardsigmoid", "PReLU", "Softsign", "Tanhshrink",
        "AlphaDropout", "LogSigmoid", "Softmin",
    };

    public static Layer? Read(IOperation? operation)
    {
        operation = Unwrap(operation);
        if (operation is not IInvocationOperation invocation || !Symbols.IsNn(invocation.TargetMethod.ContainingType))
            return null;
        var args = Arguments(invocation);
        string name = invocation.TargetMethod.Name;
        if (SameShape.Contains(name)) return new SameShapeLayer(name);
        switch (name)
        {
            case "Linear":
                return Long(args, "inputSize") is { } i && Long(args, "outputSize") is { } o && i > 0 && o > 0 ? new LinearLayer(i, o) : null;
            case "Conv1d":
            case "Conv2d":
            {
                int d = name == "Conv1d" ? 1 : 2;
                if (Long(args, "in_channels") is not { } ic || Long(args, "out_channels") is not { } oc || ic <= 0 || oc <= 0) return null;
                var k = Dims(args, "kernel_size", null, d);
                var s = Dims(args, "stride", 1, d);
                var dl = Dims(args, "dilation", 1, d);
                if (k is null || s is null || dl is null) return null;
                bool same = false;
                long[]? p;
                if (args.TryGetValue("padding", out var padding) && padding.Type?.Name == "Padding")
                {
                    if (padding.ConstantValue.Value is not int mode) return null;
                    var member = padding.Type.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, mode));
                    if (member?.Name == "Same") { same = true; p = new long[d]; if (s.Any(x => x != 1)) return null; }
                    else if (member?.Name == "Valid") p = new long[d];
                    else return null;
                }
                else p = Dims(args, "padding", 0, d);
                if (p is null || !Positive(k) || !Positive(s) || !Positive(dl) || p.Any(x => x < 0)) return null;
                return new Conv2dLayer(ic, oc, k, s, p, dl, same);
            }
            case "MaxPool1d":
            case "AvgPool1d":
            case "MaxPool2d":
            case "AvgPool2d":
            {
                int n = name.EndsWith("1d", System.StringComparison.Ordinal) ? 1 : 2;
                var k = Dims(args, "kernel_size", null, n);
                if (k is null) return null;
                var s = Dims(args, "stride", null, n) ?? (IsNullOrAbsent(args, "stride") ? k : null);
                var p = Dims(args, "padding", 0, n);
                var d = name.StartsWith("MaxPool", System.StringComparison.Ordinal) ? Dims(args, "dilation", 1, n) : Enumerable.Repeat(1L, n).ToArray();
                if (s is null || p is null || d is null || !Positive(k) || !Positive(s) || !Positive(d) || p.Any(x => x < 0)) return null;
                if (Bool(args, "ceil_mode") is not { } ceil) return null;
                return new Pool2dLayer(name, k, s, p, d, ceil);
            }
            case "AdaptiveAvgPool2d":
            case "AdaptiveMaxPool2d":
            {
                var size = Dims(args, "output_size", null, 2);
                return size is not null && Positive(size) ? new AdaptivePoolLayer(name, size) : null;
            }
            case "LayerNorm":
                return args.TryGetValue("normalized_shape", out var normalized) && normalized.Type?.SpecialType == SpecialType.System_Int64 &&
                       ConstantLong(normalized) is { } ln && ln > 0 ? new LayerNormLayer(ln) : null;
            case "BatchNorm1d":
                return Long(args, "num_features") is { } f1 && f1 > 0 ? new BatchNormLayer(name, f1, 2, 3) : null;
            case "BatchNorm2d":
                return Long(args, "num_features") is { } f2 && f2 > 0 ? new BatchNormLayer(name, f2, 4) : null;
            case "Flatten":
                return Long(args, "start_dim") is { } start && Long(args, "end_dim") is { } end ? new FlattenLayer(start, end) : null;
            case "Sequential":
                return ReadSequential(invocation);
            default:
                return null;
        }
    }

    private static Layer? ReadSequential(IInvocationOperation invocation)
    {
        var children = new List<(string, Layer?)>();
        foreach (var argument in invocation.Arguments)
        {
            var value = Unwrap(argument.Value);
            IEnumerable<IOperation> elements;
            if (argument.ArgumentKind == ArgumentKind.ParamArray && value is IArrayCreationOperation array && array.Initializer is not null)
                elements = array.Initializer.ElementValues;
            else if (value is IArrayCreationOperation explicitArray && explicitArray.Initializer is not null)
                elements = explicitArray.Initializer.ElementValues;
            else
                return null;
            foreach (var element in elements)
            {
                var item = Unwrap(element);
                if (item is ITupleOperation tuple && tuple.Elements.Length == 2)
                {
                    if (Unwrap(tuple.Elements[0])?.ConstantValue.Value is not string childName) return null;
                    children.Add((childName, Read(tuple.Elements[1])));
                }
                else if (item is ITupleOperation)
                    return null;
                else
                    children.Add((children.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Read(item)));
            }
        }
        return new SequentialLayer(children);
    }

    public static IOperation? Unwrap(IOperation? operation)
    {
        while (operation is IConversionOperation conversion) operation = conversion.Operand;
        while (operation is IParenthesizedOperation parenthesized) operation = parenthesized.Operand;
        return operation;
    }

    public static Dictionary<string, IOperation> Arguments(IInvocationOperation invocation)
    {
        var map = new Dictionary<string, IOperation>();
        foreach (var argument in invocation.Arguments)
            if (argument.Parameter is not null)
                map[argument.Parameter.Name] = argument.Value;
        return map;
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

    private static long? Long(Dictionary<string, IOperation> args, string name) =>
        args.TryGetValue(name, out var value) ? ConstantLong(value) : null;

    private static bool? Bool(Dictionary<string, IOperation> args, string name) =>
        !args.TryGetValue(name, out var value) ? false : value.ConstantValue.HasValue && value.ConstantValue.Value is bool b ? b : null;

    private static bool IsNullOrAbsent(Dictionary<string, IOperation> args, string name) =>
        !args.TryGetValue(name, out var value) || (value.ConstantValue.HasValue && value.ConstantValue.Value is null) ||
        (Unwrap(value) is { } inner && inner.ConstantValue.HasValue && inner.ConstantValue.Value is null) || Unwrap(value) is IDefaultValueOperation;

    /// <summary>Per-dimension sizes from a scalar, a tuple or an array of <paramref name="count"/> elements; <paramref name="fallback"/> when absent or null.</summary>
    private static long[]? Dims(Dictionary<string, IOperation> args, string name, long? fallback, int count)
    {
        if (IsNullOrAbsent(args, name)) return fallback is { } f ? Enumerable.Repeat(f, count).ToArray() : null;
        var value = Unwrap(args[name]);
        if (ConstantLong(value) is { } single) return Enumerable.Repeat(single, count).ToArray();
        if (count == 1)
            return value is IArrayCreationOperation { Initializer.ElementValues.Length: 1 } one && ConstantLong(one.Initializer!.ElementValues[0]) is { } o ? new[] { o } : null;
        if (value is ITupleOperation tuple && tuple.Elements.Length == 2 && ConstantLong(tuple.Elements[0]) is { } a && ConstantLong(tuple.Elements[1]) is { } b)
            return new[] { a, b };
        if (value is IObjectCreationOperation { Arguments.Length: 2 } creation && ConstantLong(creation.Arguments[0].Value) is { } c && ConstantLong(creation.Arguments[1].Value) is { } e)
            return new[] { c, e };
        if (value is IArrayCreationOperation { Initializer.ElementValues.Length: 2 } array && ConstantLong(array.Initializer!.ElementValues[0]) is { } g && ConstantLong(array.Initializer.ElementValues[1]) is { } h)
            return new[] { g, h };
        return null;
    }

    private static bool Positive(long[] values) => values.All(v => v > 0);
}
