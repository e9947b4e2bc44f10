using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// The checks every engine makes, written once so that each bad input gets the same message from every explainer:
/// background and inputs (count, shape, dtype, device, finiteness), labels, ranked outputs, model outputs (row and
/// output counts, NaN or infinity), and a model output detached from its inputs.
/// </summary>
internal static class EngineChecks
{
    /// <summary>
    /// Checks a background (see <see cref="InputValidation.CheckBatch"/>), that all its inputs are on one device and,
    /// for a module, that its floating-point dtype matches the module's parameters. Returns rows and device.
    /// </summary>
    public static (long Rows, Device Device) Background(ExplainableModel model, Tensor[] background, IReadOnlyList<string>? inputNames)
    {
        var modelDevice = model.Device;
        long rows = InputValidation.CheckBatch(background, nameof(background), model.InputCount, null, modelDevice, inputNames);
        var device = modelDevice ?? background[0].device;
        for (int i = 1; i < background.Length; i++)
            if (background[i].device.ToString() != device.ToString())
                throw new ArgumentException(
                    $"'background' {InputValidation.InputName(i, inputNames)} is on {background[i].device}; input 0 is on {device}. " +
                    "All inputs must be on one device.", nameof(background));
        if (model.ParameterType is { } parameters)
            for (int i = 0; i < background.Length; i++)
                if (background[i].dtype != parameters)
                    throw new ArgumentException(
                        $"'background' {InputValidation.InputName(i, inputNames)} is {background[i].dtype} but the model's parameters are " +
                        $"{parameters}: convert the data (.to_type({parameters})) or the model (.to({background[i].dtype})).", nameof(background));
        return (rows, device);
    }

    /// <summary>Checks explained inputs against the background: count, per-sample shapes, device, finiteness and dtypes.</summary>
    public static long Inputs(Tensor[] inputs, IReadOnlyList<long[]> sampleShapes, IReadOnlyList<ScalarType> dtypes, Device device,
                              IReadOnlyList<string>? inputNames)
    {
        long n = InputValidation.CheckBatch(inputs, nameof(inputs), sampleShapes.Count, sampleShapes, device, inputNames);
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].dtype != dtypes[i])
                throw new ArgumentException(
                    $"'inputs' {InputValidation.InputName(i, inputNames)} is {inputs[i].dtype}; the background is {dtypes[i]}.", nameof(inputs));
        return n;
    }

    /// <summary>Checks that there is one label per model output.</summary>
    public static void Labels(IReadOnlyList<string>? labels, long outputCount)
    {
        if (labels is not null && labels.Count != outputCount)
            throw new ArgumentException($"'labels' has {labels.Count} names; the model has {outputCount} outputs.", nameof(labels));
    }

    /// <summary>Checks the options that depend on the model: ranked outputs within the output count.</summary>
    public static void Options(ExplainOptions options, long outputCount) => RankedOutputs(options.RankedOutputs, outputCount);

    /// <summary>Checks a ranked-output count: null (all outputs) or 1..<paramref name="outputCount"/>.</summary>
    public static void RankedOutputs(int? rankedOutputs, long outputCount)
    {
        if (rankedOutputs is int r && (r < 1 || r > outputCount))
            throw new ArgumentOutOfRangeException(nameof(ExplainOptions.RankedOutputs), r,
                $"RankedOutputs must be between 1 and the model's {outputCount} outputs; it is {r}.");
    }

    /// <summary>Checks one batch of model outputs [rows, K]: floating point, one row per input row, K outputs (when known).</summary>
    public static void Output(Tensor output, long rows, long? outputCount)
    {
        if (!output.is_floating_point())
            throw new InvalidOperationException($"The model output must be floating point; it is {output.dtype}.");
        if (output.shape[0] != rows)
            throw new InvalidOperationException(
                $"The model returned {output.shape[0]} rows for a batch of {rows}; it must return one row per input row.");
        if (output.shape[1] == 0)
            throw new InvalidOperationException("The model returns no outputs (shape [N, 0]).");
        if (outputCount is long k && output.shape[1] != k)
            throw new InvalidOperationException($"The model returned {output.shape[1]} outputs; it returned {k} on the background.");
    }

    /// <summary>
    /// Throws when model outputs [rows, K] hold NaN or infinity, naming the argument whose rows they came from, the
    /// first such row (counted from <paramref name="firstRow"/>) and output.
    /// </summary>
    public static void Finite(Tensor outputs, string argument, long firstRow, IReadOnlyList<string>? labels)
    {
        using var scope = NewDisposeScope();
        var bad = isfinite(outputs).logical_not();
        if (!bad.any().item<bool>()) return;
        long flat = bad.flatten().to_type(ScalarType.Int8).argmax().item<long>();
        long k = outputs.shape[1], row = flat / k, output = flat % k;
        double value = outputs[row, output].to_type(ScalarType.Float64).item<double>();
        throw new ArgumentException(
            $"The model returns {value.ToString(CultureInfo.InvariantCulture)} for {OutputName(output, labels)} on '{argument}' row {firstRow + row}: " +
            "explanations need finite outputs (look for a log or a division by 0 in the model, or out-of-range data).", argument);
    }

    /// <summary>
    /// Called when a gradient engine's model output does not require grad (a <c>.detach()</c>, <c>no_grad</c> or a
    /// trip through the host inside forward): the attributions would all be 0. Throws unless f(x) equals E[f] for
    /// every sample and output, where 0 is the right answer.
    /// </summary>
    public static void Attached(string engine, Tensor fx, Tensor expected, IReadOnlyList<string>? labels)
    {
        using var scope = NewDisposeScope();
        var gap = (fx.to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64).unsqueeze(0)).abs();
        long flat = gap.flatten().argmax().item<long>();
        long k = fx.shape[1], row = flat / k, output = flat % k;
        double worst = gap[row, output].item<double>();
        if (worst <= 1e-12) return;
        throw new InvalidOperationException(
            $"{engine}: the model's output is detached from its inputs (it does not require grad: a .detach(), no_grad(), .item() " +
            "or a copy through the host inside forward), so every gradient is 0, yet f(x) differs from E[f(background)] by " +
            $"{worst.ToString("G6", CultureInfo.InvariantCulture)} for {OutputName(output, labels)} of sample {row}. " +
            "Keep the computation in autograd, or use KernelExplainer, which needs no gradients.");
    }

    /// <summary>Names a model output for messages: <c>output 1</c>, or <c>output 1 ('cat')</c> with labels.</summary>
    public static string OutputName(long output, IReadOnlyList<string>? labels) =>
        labels is not null && output >= 0 && output < labels.Count ? $"output {output} ('{labels[(int)output]}')" : $"output {output}";
}
