using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using static ShapGen.Tests.Perturbation.PerturbationTestModels;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

public sealed class PartitionTests
{
    private static readonly long[][] SixShape = { new long[] { 6 } };

    /// <summary>((0, 1), (2, 3)), (4, 5): rows join nodes into 6, 7, 8, 9, 10 (the root).</summary>
    private static readonly double[,] Linkage = { { 0, 1, 1, 2 }, { 2, 3, 1, 2 }, { 4, 5, 1, 2 }, { 6, 7, 2, 4 }, { 9, 8, 3, 6 } };

    private static readonly int[][] LinkageClusters = { new[] { 0, 1 }, new[] { 2, 3 }, new[] { 4, 5 }, new[] { 0, 1, 2, 3 } };

    private static IEnumerable<int[]> Permutations(int[] items) =>
        items.Length <= 1 ? new[] { items }
            : items.SelectMany(first => Permutations(items.Where(i => i != first).ToArray()).Select(rest => new[] { first }.Concat(rest).ToArray()));

    /// <summary>
    /// Owen values by their definition: the mean marginal contribution over the orderings in which every cluster's
    /// features come one after another (baseline 0 for the absent features).
    /// </summary>
    private static double[,] BruteForceOwen(double[] x, int[][] clusters)
    {
        var orders = Permutations(Enumerable.Range(0, 6).ToArray())
            .Where(p => clusters.All(c => { var at = c.Select(f => Array.IndexOf(p, f)).ToArray(); return at.Max() - at.Min() == c.Length - 1; }))
            .ToArray();
        var owen = new double[6, 3];
        foreach (var order in orders)
        {
            var row = new double[6];
            var before = Six(row);
            foreach (int f in order)
            {
                row[f] = x[f];
                var after = Six(row);
                for (int o = 0; o < 3; o++) owen[f, o] += (after[o] - before[o]) / orders.Length;
                before = after;
            }
        }
        return owen;
    }

    private static double[,] BruteForceShapley(double[] x)
    {
        var phi = new double[6, 3];
        double Factorial(int v) => v <= 1 ? 1 : v * Factorial(v - 1);
        for (int f = 0; f < 6; f++)
            for (int subset = 0; subset < 64; subset++)
            {
                if ((subset >> f & 1) == 1) continue;
                int size = System.Numerics.BitOperations.PopCount((uint)subset);
                double weight = Factorial(size) * Factorial(5 - size) / Factorial(6);
                var without = Enumerable.Range(0, 6).Select(j => (subset >> j & 1) == 1 ? x[j] : 0).ToArray();
                var with = (double[])without.Clone();
                with[f] = x[f];
                var a = Six(with);
                var b = Six(without);
                for (int o = 0; o < 3; o++) phi[f, o] += weight * (a[o] - b[o]);
            }
        return phi;
    }

    private static readonly double[][] Samples = { new[] { 0.9, -1.2, 0.4, 1.5, -0.7, 1.1 }, new[] { -0.3, 0.8, 1.7, -1.1, 0.6, -0.9 } };

    private static Tensor Batch() => tensor(Samples.SelectMany(s => s).ToArray(), new long[] { 2, 6 }, float64);

    [Fact]
    public void With_enough_evaluations_the_values_are_brute_force_owen_values_of_the_clustering()
    {
        using var scope = NewDisposeScope();
        using var result = new Partition(SixModel()).Explain(new[] { Batch() },
            new PartitionOptions { Hierarchy = PartitionTree.FromLinkage(Linkage), MaxEvals = 10000 });
        for (int s = 0; s < 2; s++)
        {
            var owen = BruteForceOwen(Samples[s], LinkageClusters);
            var shapley = BruteForceShapley(Samples[s]);
            bool differsFromShapley = false;
            for (int o = 0; o < 3; o++)
            {
                var got = result[o, 0][s].data<double>().ToArray();
                for (int f = 0; f < 6; f++)
                {
                    Assert.Equal(owen[f, o], got[f], 1e-9);
                    differsFromShapley |= Math.Abs(owen[f, o] - shapley[f, o]) > 1e-3;
                }
            }
            Assert.True(differsFromShapley, "the hierarchy should matter for this model");
        }
    }

    [Fact]
    public void A_flat_hierarchy_gives_exact_shapley_values()
    {
        using var scope = NewDisposeScope();
        using var result = new Partition(SixModel()).Explain(new[] { Batch() },
            new PartitionOptions { Hierarchy = PartitionTree.Flat(6), MaxEvals = 62 });
        for (int s = 0; s < 2; s++)
        {
            var shapley = BruteForceShapley(Samples[s]);
            for (int o = 0; o < 3; o++)
            {
                var got = result[o, 0][s].data<double>().ToArray();
                for (int f = 0; f < 6; f++) Assert.Equal(shapley[f, o], got[f], 1e-9);
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(6)]
    [InlineData(15)]
    public void Efficiency_is_exact_when_max_evals_cuts_the_exploration_short(int maxEvals)
    {
        using var scope = NewDisposeScope();
        var x = Batch();
        using var result = new Partition(SixModel()).Explain(new[] { x },
            new PartitionOptions { Hierarchy = PartitionTree.FromLinkage(Linkage), MaxEvals = maxEvals, BatchSize = 2 });
        var fx = SixModel().Forward(new[] { x });
        var f0 = SixModel().Forward(new[] { zeros_like(x) });
        bool cut = false;
        for (int s = 0; s < 2; s++)
        {
            var owen = BruteForceOwen(Samples[s], LinkageClusters);
            for (int o = 0; o < 3; o++)
            {
                var got = result[o, 0][s].data<double>().ToArray();
                Assert.Equal(fx[s, o].item<double>() - f0[s, o].item<double>(), got.Sum(), 1e-9);
                cut |= got.Select((v, f) => Math.Abs(v - owen[f, o])).Max() > 1e-6;
            }
        }
        Assert.True(cut, "MaxEvals this small should leave the values short of the exact Owen values");
    }

    [Fact]
    public void The_image_partition_splits_as_shap_does_height_first_on_ties_then_width_then_channels()
    {
        // A 2×3 one-channel sample [1, 2, 3]: width 3 > height 2 splits the columns {0} | {1, 2}; then each side's rows;
        // then the 2×2 side's columns: ((0, 3), ((1, 2), (4, 5))) over the elements y·3 + x.
        using var scope = NewDisposeScope();
        var model = new ExplainableModel(x => SixModel().Forward(new[] { x[0].reshape(x[0].shape[0], 6) }), 1);
        var image = Batch().reshape(2, 1, 2, 3);
        using var byDefault = new Partition(model).Explain(new[] { image }, new PartitionOptions { MaxEvals = 1000 });
        var tree = PartitionTree.FromLinkage(new double[,] { { 0, 3, 0, 2 }, { 1, 2, 0, 2 }, { 4, 5, 0, 2 }, { 7, 8, 0, 4 }, { 6, 9, 0, 6 } });
        using var explicitTree = new Partition(model).Explain(new[] { image }, new PartitionOptions { MaxEvals = 1000, Hierarchy = tree });
        for (int s = 0; s < 2; s++)
        {
            var owen = BruteForceOwen(Samples[s], new[] { new[] { 0, 3 }, new[] { 1, 2 }, new[] { 4, 5 }, new[] { 1, 2, 4, 5 } });
            for (int o = 0; o < 3; o++)
            {
                var got = byDefault[o, 0][s].reshape(-1).data<double>().ToArray();
                Assert.True(byDefault[o, 0].equal(explicitTree[o, 0]).all().item<bool>());
                for (int f = 0; f < 6; f++) Assert.Equal(owen[f, o], got[f], 1e-9);
            }
        }
        Assert.Equal(new long[] { 2, 1, 2, 3, 3 }, byDefault.ToShapLayout(0).shape); // shap's layout: outputs last
    }

    [Fact]
    public void The_blur_masker_fills_removed_pixels_with_opencvs_box_blur_reflected_at_the_borders()
    {
        // Pixels 10·y + x of a 3×4 image and a model returning its pixels: f(blurred image) is the blurred image.
        using var scope = NewDisposeScope();
        var image = tensor(Enumerable.Range(0, 12).Select(i => 10.0 * (i / 4) + i % 4).ToArray(), new long[] { 1, 3, 4 }, float64);
        var identity = new ExplainableModel(x => x[0].reshape(x[0].shape[0], -1), 1);
        using var blur32 = new Partition(identity).Explain(new[] { image }, new PartitionOptions { Blur = (3, 2), MaxEvals = 2 });
        var e = blur32.ExpectedValues.data<double>().ToArray();
        // kx = 3 (anchor 1): columns x−1..x+1; ky = 2 (anchor 1): rows y−1..y; index −1 reflects to 1, 4 to 2.
        Assert.Equal(10 * (1 + 0) / 2.0 + (1 + 0 + 1) / 3.0, e[0], 1e-12);         // (0, 0): rows {1, 0}, columns {1, 0, 1}
        Assert.Equal(10 * (0 + 1) / 2.0 + (0 + 1 + 2) / 3.0, e[4 + 1], 1e-12);     // (1, 1): rows {0, 1}, columns {0, 1, 2}
        Assert.Equal(10 * (1 + 2) / 2.0 + (2 + 3 + 2) / 3.0, e[8 + 3], 1e-12);     // (2, 3): rows {1, 2}, columns {2, 3, 2}
        using var blur71 = new Partition(identity).Explain(new[] { image }, new PartitionOptions { Blur = (7, 1), MaxEvals = 2 });
        // A window wider than the image keeps reflecting: columns −3..3 are 3, 2, 1, 0, 1, 2, 3.
        Assert.Equal((3 + 2 + 1 + 0 + 1 + 2 + 3) / 7.0, blur71.ExpectedValues.data<double>()[0], 1e-12);
    }

    [Fact]
    public void Bad_hierarchies_and_options_are_named()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => PartitionTree.FromLinkage(new double[,] { { 0, 1, 0, 2 }, { 1, 2, 0, 2 } }));
        Assert.Contains("joins node 1, which an earlier row already joined", e.Message);
        e = Assert.Throws<ArgumentException>(() => PartitionTree.FromLinkage(new double[,] { { 0, 3, 0, 2 }, { 1, 2, 0, 2 } }));
        Assert.Contains("Linkage row 0 joins node 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => PartitionTree.FromLinkage(new double[,] { { 0, 1, 0, 3 }, { 2, 3, 0, 3 } }));
        Assert.Contains("gives size 3; its nodes hold 2 features", e.Message);
        e = Assert.Throws<ArgumentException>(() => PartitionTree.FromLinkage(new double[0, 4]));
        Assert.Contains("at least one row", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => PartitionTree.Flat(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PartitionTree.Flat(PartitionTree.MaxChildren + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PartitionOptions { MaxEvals = 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new PartitionOptions { BatchSize = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new PartitionOptions { Blur = (0, 3) });
        e = Assert.Throws<ArgumentException>(() => new Partition(SixModel()).Explain(new[] { Batch() },
            new PartitionOptions { Hierarchy = PartitionTree.Flat(5) }));
        Assert.Contains("The hierarchy has 5 features; the inputs have 6", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Partition(TwoInputs()).Explain(new[] { ones(1, 3, 5, dtype: float64), ones(1, 4, dtype: float64) }));
        Assert.Contains("give PartitionOptions.Hierarchy", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Partition(SixModel()).Explain(new[] { Batch() }, new PartitionOptions { Blur = (3, 3) }));
        Assert.Contains("samples are [6]", e.Message);
    }
}
