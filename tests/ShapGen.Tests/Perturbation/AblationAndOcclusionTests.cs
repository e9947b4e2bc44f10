using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using static ShapGen.Tests.Perturbation.PerturbationTestModels;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

public sealed class AblationAndOcclusionTests
{
    private static readonly long[][] Shapes = { new long[] { 3, 5 }, new long[] { 4 } };

    [Theory]
    [InlineData(null)]
    [InlineData(5)]
    public void Feature_ablation_matches_one_ablation_per_call_with_groups_spanning_inputs(int? maxRows)
    {
        using var scope = NewDisposeScope();
        var model = TwoInputs();
        var x = new[] { randn(4, 3, 5, dtype: float64), randn(4, 4, dtype: float64) };
        var baseline = new[] { randn(3, 5, dtype: float64), randn(4, 4, dtype: float64) }; // one per sample shape, one per row
        var random = new Random(3);
        const int features = 7;
        var maps = new[] { Enumerable.Range(0, 15).Select(_ => random.Next(features)).ToArray(), new[] { 0, 6, 6, 2 } };
        var options = new FeatureAblationOptions { FeatureGroups = new KernelFeatureGroups(features, maps), Baselines = baseline, MaxBatchRows = maxRows };
        using var result = new FeatureAblation(model).Explain(x, options);

        Assert.Equal(3, result.OutputCount);
        for (int s = 0; s < 4; s++)
        {
            var rowX = x.Select(t => Row(t, s)).ToArray();
            var rowB = new[] { Row(baseline[0].unsqueeze(0), 0), Row(baseline[1], s) };
            var fx = CallOnce(model, rowX, Shapes);
            for (int f = 0; f < features; f++)
            {
                var ablated = rowX.Select((r, i) => r.Select((v, e) => maps[i][e] == f ? rowB[i][e] : v).ToArray()).ToArray();
                var fa = CallOnce(model, ablated, Shapes);
                for (int o = 0; o < 3; o++)
                    for (int i = 0; i < 2; i++)
                    {
                        var got = Row(result[o, i], s);
                        for (int e = 0; e < got.Length; e++)
                            if (maps[i][e] == f) Assert.Equal(fx[o] - fa[o], got[e], 1e-12);
                    }
            }
        }
        var fb = Enumerable.Range(0, 4).Select(s => CallOnce(model, new[] { Row(baseline[0].unsqueeze(0), 0), Row(baseline[1], s) }, Shapes)).ToArray();
        for (int o = 0; o < 3; o++) Assert.Equal(fb.Average(v => v[o]), result.ExpectedValue(o), 1e-12);
    }

    [Theory]
    [InlineData(2, 2, 2, 1, 3, 2)]   // windows cut at the edges, overlapping along one dimension
    [InlineData(1, 1, 1, 1, 1, 1)]   // one element at a time: occlusion = per-element ablation
    [InlineData(3, 3, 1, 2, 4, 7)]   // windows as large as a dimension
    public void Occlusion_matches_one_window_per_call_averaged_over_covering_windows(int w0, int w1, int s0, int s1, int w2, int s2)
    {
        using var scope = NewDisposeScope();
        var model = TwoInputs();
        var x = new[] { randn(3, 3, 5, dtype: float64), randn(3, 4, dtype: float64) };
        var options = new OcclusionOptions
        {
            SlidingWindowShapes = new[] { new long[] { w0, w1 }, new long[] { w2 } },
            Strides = new[] { new long[] { s0, s1 }, new long[] { s2 } },
            Baseline = 0.25,
            MaxBatchRows = 4,
        };
        using var result = new Occlusion(model).Explain(x, options);

        for (int s = 0; s < 3; s++)
        {
            var rowX = x.Select(t => Row(t, s)).ToArray();
            var fx = CallOnce(model, rowX, Shapes);
            // Input 0 (3×5): every window position, one model call each.
            var sum0 = new double[3, 15]; var count0 = new int[15];
            foreach (int a in Positions(3, w0, s0))
                foreach (int b in Positions(5, w1, s1))
                {
                    var occluded = (double[])rowX[0].Clone();
                    var inside = new List<int>();
                    for (int r = a; r < Math.Min(3, a + w0); r++)
                        for (int c = b; c < Math.Min(5, b + w1); c++) inside.Add(r * 5 + c);
                    foreach (int e in inside) occluded[e] = 0.25;
                    var fo = CallOnce(model, new[] { occluded, rowX[1] }, Shapes);
                    foreach (int e in inside) { count0[e]++; for (int o = 0; o < 3; o++) sum0[o, e] += fx[o] - fo[o]; }
                }
            var sum1 = new double[3, 4]; var count1 = new int[4];
            foreach (int a in Positions(4, w2, s2))
            {
                var occluded = (double[])rowX[1].Clone();
                var inside = Enumerable.Range(a, Math.Min(4, a + w2) - a).ToArray();
                foreach (int e in inside) occluded[e] = 0.25;
                var fo = CallOnce(model, new[] { rowX[0], occluded }, Shapes);
                foreach (int e in inside) { count1[e]++; for (int o = 0; o < 3; o++) sum1[o, e] += fx[o] - fo[o]; }
            }
            for (int o = 0; o < 3; o++)
            {
                var got0 = Row(result[o, 0], s);
                for (int e = 0; e < 15; e++) Assert.Equal(sum0[o, e] / count0[e], got0[e], 1e-12);
                var got1 = Row(result[o, 1], s);
                for (int e = 0; e < 4; e++) Assert.Equal(sum1[o, e] / count1[e], got1[e], 1e-12);
            }
        }
    }

    /// <summary>Window starts along one dimension, written plainly: step by the stride until a window reaches the end.</summary>
    private static IEnumerable<int> Positions(int size, int window, int stride)
    {
        for (int p = 0; ; p += stride)
        {
            yield return p;
            if (p + window >= size) yield break;
        }
    }

    [Fact]
    public void Ranked_outputs_pick_each_samples_top_outputs_from_the_same_attributions()
    {
        using var scope = NewDisposeScope();
        var model = TwoInputs();
        var x = new[] { randn(5, 3, 5, dtype: float64), randn(5, 4, dtype: float64) };
        using var all = new FeatureAblation(model).Explain(x);
        using var ranked = new FeatureAblation(model).Explain(x, new FeatureAblationOptions { RankedOutputs = 2, OutputRankOrder = OutputRankOrder.Min });
        var fx = model.Forward(x);
        var indexes = ranked.RankedIndexes()!;
        for (int s = 0; s < 5; s++)
        {
            var order = Row(fx, s).Select((v, o) => (v, o)).OrderBy(t => t.v).Select(t => t.o).Take(2).ToArray();
            Assert.Equal(order.Select(o => (long)o), indexes[s]);
            for (int r = 0; r < 2; r++)
                for (int i = 0; i < 2; i++)
                    Assert.Equal(Row(all[order[r], i], s), Row(ranked[r, i], s));
        }
    }
}
