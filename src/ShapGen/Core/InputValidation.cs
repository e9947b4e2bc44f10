using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Checks user tensors before any work (a libtorch error inside autograd aborts the process), with messages that
/// name the argument, the input, the expected and the actual value.
/// </summary>
public static class InputValidation
{
    /// <summary>Names input <paramref name="index"/> for messages: <c>input 1 ('image')</c>.</summary>
    public static string InputName(int index, IReadOnlyList<string>? names) =>
        names is not null && index < names.Count ? $"input {index} ('{names[index]}')" : $"input {index}";

    /// <summary>
    /// Checks a batch of model inputs: count, not disposed, floating point, at least one row, equal batch sizes,
    /// per-sample shapes (when given), device (when given), and finiteness.
    /// </summary>
    /// <param name="tensors">One batched tensor per model input.</param>
    /// <param name="argument">The argument name for messages, e.g. <c>inputs</c> or <c>background</c>.</param>
    /// <param name="inputCount">How many inputs the model takes.</param>
    /// <param name="sampleShapes">Expected per-sample shape of each input, or null to skip the check.</param>
    /// <param name="device">The model's device, or null to skip the check.</param>
    /// <param name="names">Input names for messages, or null.</param>
    /// <returns>The common batch size.</returns>
    public static long CheckBatch(Tensor[]? tensors, string argument, int inputCount,
                                  IReadOnlyList<long[]>? sampleShapes = null, Device? device = null,
                                  IReadOnlyList<string>? names = null)
    {
        if (tensors is null)
            throw new ArgumentNullException(argument);
        if (tensors.Length != inputCount)
            throw new ArgumentException(
                $"The model takes {inputCount} input(s); '{argument}' has {tensors.Length} tensor(s).", argument);
        long batch = -1;
        for (int i = 0; i < tensors.Length; i++)
        {
            var t = tensors[i];
            string what = $"'{argument}' {InputName(i, names)}";
            if (t is null)
                throw new ArgumentNullException(argument, $"{what} is null.");
            if (t.IsInvalid)
                throw new ObjectDisposedException(argument, $"{what} has been disposed.");
            if (!t.is_floating_point())
                throw new ArgumentException($"{what} must be a floating-point tensor; it is {t.dtype}.", argument);
            if (t.dim() < 1)
                throw new ArgumentException($"{what} must have a batch dimension; it is a scalar.", argument);
            if (t.shape[0] == 0)
                throw new ArgumentException($"{what} is empty: it has 0 rows (shape {Shapes.Format(t.shape)}).", argument);
            if (batch >= 0 && t.shape[0] != batch)
                throw new ArgumentException(
                    $"{what} has {t.shape[0]} rows but input 0 has {batch}: every input needs the same batch size.", argument);
            batch = t.shape[0];
            if (sampleShapes is not null)
            {
                var expected = sampleShapes[i];
                var actual = t.shape.Skip(1).ToArray();
                // A negative expected dimension is a dynamic one (typed ONNX models): any size fits it.
                if (expected.Length != actual.Length || expected.Where((d, k) => d >= 0 && d != actual[k]).Any())
                    throw new ArgumentException(
                        $"{what} has per-sample shape {Shapes.Format(actual)}; expected {Shapes.Format(expected)} " +
                        $"(full shape {Shapes.Format(t.shape)}, expected [N, {string.Join(", ", expected)}]).", argument);
            }
            if (device is not null && t.device.ToString() != device.ToString())
                throw new ArgumentException(
                    $"{what} is on {t.device}; the model is on {device}. Move it with .to(device) first.", argument);
            bool allFinite;
            using (NewDisposeScope())
                allFinite = isfinite(t).all().item<bool>();
            if (!allFinite)
                throw new ArgumentException($"{what} contains NaN or infinite values.", argument);
        }
        return batch;
    }

    /// <summary>Per-sample shapes of a batch: the shape of each tensor without its first dimension.</summary>
    public static long[][] SampleShapes(Tensor[] tensors) => tensors.Select(t => t.shape.Skip(1).ToArray()).ToArray();

    /// <summary>
    /// Checks reference inputs (baselines) against the explained inputs and returns one detached tensor per input,
    /// [1, …] (shared, also for a per-sample shape) or [N, …] (one per sample); null gives zeros [1, …].
    /// </summary>
    /// <param name="baselines">One tensor per input: the per-sample shape, [1, …] or [N, …]; or null.</param>
    /// <param name="inputs">The explained inputs, [N, …] each.</param>
    /// <param name="n">The number of explained samples.</param>
    /// <param name="inputNames">Names of the inputs for messages, or null.</param>
    public static Tensor[] Baselines(Tensor[]? baselines, Tensor[] inputs, long n, IReadOnlyList<string>? inputNames)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (baselines is null)
            return inputs.Select(t => zeros(new[] { 1L }.Concat(t.shape.Skip(1)).ToArray(), dtype: t.dtype, device: t.device)).ToArray();
        if (baselines.Length != inputs.Length)
            throw new ArgumentException($"The model takes {inputs.Length} input(s); 'baselines' has {baselines.Length} tensor(s).", nameof(baselines));
        var result = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var b = baselines[i];
            string what = $"'baselines' {InputName(i, inputNames)}";
            if (b is null) throw new ArgumentNullException(nameof(baselines), $"{what} is null.");
            if (b.IsInvalid) throw new ObjectDisposedException(nameof(baselines), $"{what} has been disposed.");
            var sample = inputs[i].shape.Skip(1).ToArray();
            var shape = b.shape;
            bool perSample = shape.SequenceEqual(sample);
            if (!perSample && !(shape.Length == sample.Length + 1 && shape.Skip(1).SequenceEqual(sample) && (shape[0] == 1 || shape[0] == n)))
                throw new ArgumentException(
                    $"{what} has shape {Shapes.Format(shape)}; expected the per-sample shape {Shapes.Format(sample)}, " +
                    $"[1, {string.Join(", ", sample)}] or [{n}, {string.Join(", ", sample)}] (one per explained sample).", nameof(baselines));
            if (b.dtype != inputs[i].dtype)
                throw new ArgumentException($"{what} is {b.dtype}; the input is {inputs[i].dtype}.", nameof(baselines));
            if (b.device.ToString() != inputs[i].device.ToString())
                throw new ArgumentException($"{what} is on {b.device}; the input is on {inputs[i].device}.", nameof(baselines));
            bool finite;
            using (NewDisposeScope()) finite = isfinite(b).all().item<bool>();
            if (!finite) throw new ArgumentException($"{what} contains NaN or infinite values.", nameof(baselines));
            result[i] = perSample ? b.unsqueeze(0).detach() : b.detach();
        }
        return result;
    }
}
