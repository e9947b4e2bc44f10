using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Attributions for a batch of N explained samples: for each explained output o (or, with ranked outputs, each
/// rank position) and each input i, a tensor shaped like that input's batch [N, …]; plus E[f(background)] per model
/// output. Owns its tensors (on the CPU or the device they were computed on); dispose it to free them.
/// </summary>
public sealed class Explanation : IDisposable
{
    private readonly Tensor[][] _values;
    private readonly Tensor[][]? _variances;
    private bool _disposed;

    /// <summary>Creates an explanation; takes ownership of every tensor passed.</summary>
    /// <param name="values">values[o][i]: [N, …input i's per-sample shape].</param>
    /// <param name="expectedValues">E[f(background)] per model output, [K].</param>
    /// <param name="variances">Same layout as <paramref name="values"/>: the variance of each estimate, or null.</param>
    /// <param name="outputIndexes">With ranked outputs, [N, k] int64: the model output explained at each rank.</param>
    /// <param name="labels">Names of the model outputs, or null.</param>
    public Explanation(Tensor[][] values, Tensor expectedValues, Tensor[][]? variances = null,
                       Tensor? outputIndexes = null, IReadOnlyList<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(expectedValues);
        if (values.Length == 0 || values.Any(v => v.Length != values[0].Length || v.Length == 0))
            throw new ArgumentException("values must hold, for each output, one tensor per input.", nameof(values));
        _values = values;
        _variances = variances;
        ExpectedValues = expectedValues;
        OutputIndexes = outputIndexes;
        Labels = labels;
    }

    /// <summary>Number of explained outputs (rank positions when <see cref="IsRanked"/>).</summary>
    public int OutputCount => _values.Length;

    /// <summary>Number of model inputs.</summary>
    public int InputCount => _values[0].Length;

    /// <summary>Number of explained samples N.</summary>
    public long SampleCount => _values[0][0].shape[0];

    /// <summary>E[f(background)] for every model output, [K].</summary>
    public Tensor ExpectedValues { get; }

    /// <summary>With ranked outputs: [N, k] int64, the model output explained at each rank for each sample.</summary>
    public Tensor? OutputIndexes { get; }

    /// <summary>True when the explanation was made with ranked outputs.</summary>
    public bool IsRanked => OutputIndexes is not null;

    /// <summary>Names of the model outputs, when known.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>True when variances of the estimates were computed.</summary>
    public bool HasVariances => _variances is not null;

    /// <summary>The attributions of output (or rank) <paramref name="output"/> to input <paramref name="input"/>.</summary>
    public Tensor this[int output, int input] => Get(_values, output, input, "attributions");

    /// <summary>The variance of the estimate of <c>this[output, input]</c> (the variance of the mean: var/n).</summary>
    /// <exception cref="InvalidOperationException">Variances were not requested.</exception>
    public Tensor Variance(int output, int input) =>
        _variances is null
            ? throw new InvalidOperationException("Variances were not computed; set ReturnVariances = true.")
            : Get(_variances, output, input, "variances");

    /// <summary>All inputs' attributions for one output, in input order.</summary>
    public IReadOnlyList<Tensor> ForOutput(int output) => Enumerable.Range(0, InputCount).Select(i => this[output, i]).ToArray();

    /// <summary>All outputs' attributions for one input, in output order.</summary>
    public IReadOnlyList<Tensor> ForInput(int input) => Enumerable.Range(0, OutputCount).Select(o => this[o, input]).ToArray();

    /// <summary>All outputs' variances for one input, in output order.</summary>
    public IReadOnlyList<Tensor> VariancesForInput(int input) =>
        Enumerable.Range(0, OutputCount).Select(o => Variance(o, input)).ToArray();

    /// <summary>
    /// shap ≥ 0.45's layout for one input: a new tensor [N, …shape, K] with outputs last. The caller owns it.
    /// </summary>
    public Tensor ToShapLayout(int input) => stack(ForInput(input).ToArray(), -1);

    /// <summary>E[f(background)] of model output <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The model has no such output.</exception>
    public double ExpectedValue(int output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long count = ExpectedValues.shape[0];
        if ((ulong)output >= (ulong)count)
            throw new ArgumentOutOfRangeException(nameof(output), output, $"The model has {count} output(s): 0..{count - 1}.");
        using var value = ExpectedValues[output];
        return value.ToDouble();
    }

    /// <summary>
    /// With ranked outputs: for each sample, the model output explained at each rank, [N][k] (copied to the host);
    /// otherwise null.
    /// </summary>
    public long[][]? RankedIndexes()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (OutputIndexes is null) return null;
        long[] flat;
        if (OutputIndexes.device_type == DeviceType.CPU)
            flat = OutputIndexes.data<long>().ToArray();
        else
        {
            using var host = OutputIndexes.cpu();   // cpu() returns the tensor itself when it is already there
            flat = host.data<long>().ToArray();
        }
        long n = OutputIndexes.shape[0], k = OutputIndexes.shape[1];
        var rows = new long[n][];
        for (long i = 0; i < n; i++)
            rows[i] = flat.AsSpan((int)(i * k), (int)k).ToArray();
        return rows;
    }

    /// <summary>The label of model output <paramref name="modelOutput"/>, or its number when there are no labels.</summary>
    public string LabelOf(long modelOutput) =>
        Labels is not null && modelOutput >= 0 && modelOutput < Labels.Count ? Labels[(int)modelOutput] : modelOutput.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Frees every tensor the explanation owns.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var row in _values) foreach (var t in row) t.Dispose();
        if (_variances is not null) foreach (var row in _variances) foreach (var t in row) t.Dispose();
        ExpectedValues.Dispose();
        OutputIndexes?.Dispose();
    }

    private Tensor Get(Tensor[][] source, int output, int input, string what)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)output >= (uint)source.Length)
            throw new ArgumentOutOfRangeException(nameof(output), output, $"The {what} cover {source.Length} output(s): 0..{source.Length - 1}.");
        if ((uint)input >= (uint)source[output].Length)
            throw new ArgumentOutOfRangeException(nameof(input), input, $"The model has {source[output].Length} input(s): 0..{source[output].Length - 1}.");
        return source[output][input];
    }
}
