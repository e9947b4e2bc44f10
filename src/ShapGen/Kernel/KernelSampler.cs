using System;
using System.Collections.Generic;

namespace ShapGen;

/// <summary>The coalitions of one explained sample and their kernel weights (shap's KernelExplainer scheme).</summary>
internal sealed class CoalitionSet
{
    public CoalitionSet(int featureCount) => FeatureCount = featureCount;

    public int FeatureCount { get; }

    /// <summary>Row-major [Count, M] 0/1 masks: 1 keeps the explained value, 0 takes the background.</summary>
    public List<byte[]> Masks { get; } = new();

    public List<double> Weights { get; } = new();

    public int Count => Masks.Count;

    /// <summary>Fraction of the 2^M − 2 proper coalitions evaluated (shap's <c>nsamples / max_samples</c>).</summary>
    public double FractionEvaluated { get; set; }

    /// <summary>True when every proper coalition was enumerated with its exact Shapley-kernel weight.</summary>
    public bool Exact { get; set; }
}

/// <summary>
/// shap's coalition scheme: subset sizes weighted by the Shapley kernel (M − 1)/(s(M − s)), sizes s and M − s
/// paired; sizes whose every coalition fits in the remaining budget are enumerated exactly, the rest is sampled
/// by size with complements, repeats adding weight to the first draw.
/// </summary>
internal static class KernelSampler
{
    public static int PlannedSamples(int m, int? nsamples)
    {
        long requested = nsamples ?? 2L * m + 2048;
        if (m <= 30)
        {
            long max = (1L << m) - 2;
            if (requested > max) requested = max;
        }
        return (int)Math.Min(requested, int.MaxValue);
    }

    public static CoalitionSet Sample(int m, int? nsamples, Random random)
    {
        var set = new CoalitionSet(m);
        int budget = PlannedSamples(m, nsamples);
        double maxSamples = m <= 30 ? (1L << m) - 2 : Math.Pow(2, 30);
        set.FractionEvaluated = budget / maxSamples;

        int sizes = (m - 1 + 1) / 2;     // ceil((M − 1) / 2)
        int paired = (m - 1) / 2;        // floor((M − 1) / 2)
        var weight = new double[sizes];
        for (int i = 1; i <= sizes; i++) weight[i - 1] = (m - 1.0) / (i * (double)(m - i));
        for (int i = 0; i < paired; i++) weight[i] *= 2;
        double total = 0;
        foreach (double v in weight) total += v;
        for (int i = 0; i < sizes; i++) weight[i] /= total;

        int fullSizes = 0;
        double left = budget;
        var remaining = (double[])weight.Clone();
        for (int size = 1; size <= sizes; size++)
        {
            double subsets = Binomial(m, size);
            if (size <= paired) subsets *= 2;
            if (left * remaining[size - 1] / subsets < 1.0 - 1e-8) break;
            fullSizes++;
            left -= subsets;
            if (remaining[size - 1] < 1.0)
            {
                double scale = 1 - remaining[size - 1];
                for (int i = 0; i < sizes; i++) remaining[i] /= scale;
            }
            double w = weight[size - 1] / Binomial(m, size);
            if (size <= paired) w /= 2;
            foreach (var combo in Combinations(m, size))
            {
                var mask = new byte[m];
                foreach (int j in combo) mask[j] = 1;
                set.Masks.Add(mask);
                set.Weights.Add(w);
                if (size <= paired)
                {
                    var complement = new byte[m];
                    for (int j = 0; j < m; j++) complement[j] = (byte)(1 - mask[j]);
                    set.Masks.Add(complement);
                    set.Weights.Add(w);
                }
            }
        }
        set.Exact = fullSizes == sizes;

        int fixedCount = set.Count;
        int samplesLeft = budget - fixedCount;
        if (fullSizes != sizes && samplesLeft > 0)
        {
            var rest = new double[sizes - fullSizes];
            for (int i = fullSizes; i < sizes; i++) rest[i - fullSizes] = i < paired ? weight[i] / 2 : weight[i];
            double restTotal = 0;
            foreach (double v in rest) restTotal += v;
            var cumulative = new double[rest.Length];
            double acc = 0;
            for (int i = 0; i < rest.Length; i++) cumulative[i] = acc += rest[i] / restTotal;

            var used = new Dictionary<byte[], int>(ByteArrayComparer.Instance);
            var permutation = new int[m];
            int draws = 4 * samplesLeft, drawn = 0;
            while (samplesLeft > 0 && drawn < draws)
            {
                drawn++;
                double u = random.NextDouble();
                int index = Array.BinarySearch(cumulative, u);
                if (index < 0) index = ~index;
                if (index >= rest.Length) index = rest.Length - 1;
                int size = index + fullSizes + 1;
                for (int j = 0; j < m; j++) permutation[j] = j;
                var mask = new byte[m];
                for (int j = 0; j < size; j++)
                {
                    int pick = j + random.Next(m - j);
                    (permutation[j], permutation[pick]) = (permutation[pick], permutation[j]);
                    mask[permutation[j]] = 1;
                }
                bool isNew = !used.TryGetValue(mask, out int position);
                if (isNew)
                {
                    position = set.Count;
                    used[mask] = position;
                    samplesLeft--;
                    set.Masks.Add(mask);
                    set.Weights.Add(1.0);
                }
                else
                {
                    set.Weights[position] += 1.0;
                }
                if (samplesLeft > 0 && size <= paired)
                {
                    if (isNew)
                    {
                        var complement = new byte[m];
                        for (int j = 0; j < m; j++) complement[j] = (byte)(1 - mask[j]);
                        samplesLeft--;
                        set.Masks.Add(complement);
                        set.Weights.Add(1.0);
                    }
                    else if (position + 1 < set.Count)
                    {
                        set.Weights[position + 1] += 1.0;
                    }
                }
            }
            double weightLeft = 0;
            for (int i = fullSizes; i < sizes; i++) weightLeft += weight[i];
            double sampled = 0;
            for (int i = fixedCount; i < set.Count; i++) sampled += set.Weights[i];
            if (sampled > 0)
                for (int i = fixedCount; i < set.Count; i++) set.Weights[i] *= weightLeft / sampled;
        }
        return set;
    }

    internal static double Binomial(int n, int k)
    {
        if (k < 0 || k > n) return 0;
        k = Math.Min(k, n - k);
        double r = 1;
        for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
        return Math.Round(r) == r || r > 1e15 ? r : Math.Round(r);
    }

    private static IEnumerable<int[]> Combinations(int n, int k)
    {
        var c = new int[k];
        for (int i = 0; i < k; i++) c[i] = i;
        while (true)
        {
            yield return c;
            int j = k - 1;
            while (j >= 0 && c[j] == n - k + j) j--;
            if (j < 0) yield break;
            c[j]++;
            for (int i = j + 1; i < k; i++) c[i] = c[i - 1] + 1;
        }
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
