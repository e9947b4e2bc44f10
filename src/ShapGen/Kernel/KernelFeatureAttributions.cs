using System;
using System.Collections.Generic;

namespace ShapGen;

/// <summary>
/// KernelSHAP values per feature (feature group, e.g. superpixel) for each explained sample and model output, in
/// the link's space: for every sample n and output o, Σ_j φ[n, o, j] = <see cref="ModelOutput"/>(n, o) −
/// <see cref="ExpectedValues"/>[o] exactly (up to rounding).
/// </summary>
public sealed class KernelFeatureAttributions
{
    private readonly double[,,] _values;
    private readonly double[,] _outputs;

    internal KernelFeatureAttributions(double[,,] values, double[,] outputs, double[] expected, int[] evaluated, bool[] exact)
    {
        _values = values;
        _outputs = outputs;
        ExpectedValues = expected;
        EvaluatedCoalitions = evaluated;
        IsExact = exact;
    }

    /// <summary>Number of explained samples N.</summary>
    public int SampleCount => _values.GetLength(0);

    /// <summary>Number of model outputs K.</summary>
    public int OutputCount => _values.GetLength(1);

    /// <summary>Number of features M.</summary>
    public int FeatureCount => _values.GetLength(2);

    /// <summary>φ of feature <paramref name="feature"/> for output <paramref name="output"/> of sample <paramref name="sample"/>.</summary>
    public double this[int sample, int output, int feature] => _values[sample, output, feature];

    /// <summary>All features' values for one sample and output (a new array of length M).</summary>
    public double[] Values(int sample, int output)
    {
        var result = new double[FeatureCount];
        for (int j = 0; j < result.Length; j++) result[j] = _values[sample, output, j];
        return result;
    }

    /// <summary>link(E[f(background)]) per model output: the base value.</summary>
    public IReadOnlyList<double> ExpectedValues { get; }

    /// <summary>link(f(x)) of sample <paramref name="sample"/>, output <paramref name="output"/>.</summary>
    public double ModelOutput(int sample, int output) => _outputs[sample, output];

    /// <summary>Number of distinct coalitions evaluated for each sample (0 when at most one feature varies).</summary>
    public IReadOnlyList<int> EvaluatedCoalitions { get; }

    /// <summary>For each sample: true when every coalition was enumerated, so the values are the exact Shapley values.</summary>
    public IReadOnlyList<bool> IsExact { get; }
}
