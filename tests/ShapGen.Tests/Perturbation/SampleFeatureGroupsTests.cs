using System;
using Xunit;
using static ShapGen.Tests.Perturbation.PerturbationTestModels;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

/// <summary>Captum's feature_mask with a batch dimension: one grouping per explained sample.</summary>
public sealed class SampleFeatureGroupsTests
{
    private static readonly KernelFeatureGroups Pairs = new(3, new[] { 0, 0, 1, 1, 2, 2 });
    private static readonly KernelFeatureGroups FirstAndRest = new(2, new[] { 0, 1, 1, 1, 1, 1 });

    private static Tensor Batch() => tensor(new[] { 0.9, -1.2, 0.4, 1.5, -0.7, 1.1, -0.3, 0.8, 1.7, -1.1, 0.6, -0.9 }, new long[] { 2, 6 }, float64);

    [Fact]
    public void Feature_ablation_uses_each_samples_own_groups()
    {
        using var scope = NewDisposeScope();
        var x = Batch();
        using var both = new FeatureAblation(SixModel()).Explain(new[] { x },
            new FeatureAblationOptions { SampleFeatureGroups = new[] { Pairs, FirstAndRest } });
        using var first = new FeatureAblation(SixModel()).Explain(new[] { x.narrow(0, 0, 1) }, new FeatureAblationOptions { FeatureGroups = Pairs });
        using var second = new FeatureAblation(SixModel()).Explain(new[] { x.narrow(0, 1, 1) }, new FeatureAblationOptions { FeatureGroups = FirstAndRest });
        // By hand: sample 1 with features 1..5 at the baseline 0.
        var row = Row(x, 1);
        var fx = Six(row);
        var ablated = Six(new[] { row[0], 0, 0, 0, 0, 0 });
        for (int o = 0; o < 3; o++)
        {
            Assert.True(both[o, 0].narrow(0, 0, 1).allclose(first[o, 0], 0, 1e-12));
            Assert.True(both[o, 0].narrow(0, 1, 1).allclose(second[o, 0], 0, 1e-12));
            Assert.Equal(fx[o] - ablated[o], both[o, 0][1, 3].item<double>(), 1e-12);
        }
    }

    [Fact]
    public void Shapley_value_sampling_uses_each_samples_own_groups_and_stays_efficient()
    {
        using var scope = NewDisposeScope();
        var x = Batch();
        var options = new ShapleyValueSamplingOptions { NSamples = 7, Seed = 3, SampleFeatureGroups = new[] { Pairs, FirstAndRest } };
        using var both = new ShapleyValueSampling(SixModel()).Explain(new[] { x }, options);
        var f0 = Six(new double[6]);
        for (int s = 0; s < 2; s++)
        {
            var fx = Six(Row(x, s));
            var groups = s == 0 ? Pairs : FirstAndRest;
            for (int o = 0; o < 3; o++)
            {
                var values = both[o, 0][s].data<double>().ToArray();
                double total = 0;
                for (int g = 0; g < groups.FeatureCount; g++) total += values[Array.IndexOf(groups.Map(0), g)];
                Assert.Equal(fx[o] - f0[o], total, 1e-9);
                Assert.Equal(values[2], values[3]); // elements of one feature share its value
            }
        }
    }

    [Fact]
    public void Both_kinds_of_groups_or_a_wrong_count_are_named()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => new FeatureAblation(SixModel()).Explain(new[] { Batch() },
            new FeatureAblationOptions { FeatureGroups = Pairs, SampleFeatureGroups = new[] { Pairs, Pairs } }));
        Assert.Contains("not both", e.Message);
        e = Assert.Throws<ArgumentException>(() => new ShapleyValueSampling(SixModel()).Explain(new[] { Batch() },
            new ShapleyValueSamplingOptions { SampleFeatureGroups = new[] { Pairs } }));
        Assert.Contains("SampleFeatureGroups has 1 grouping(s); 2 sample(s) are explained", e.Message);
        e = Assert.Throws<ArgumentException>(() => new FeatureAblation(SixModel()).Explain(new[] { Batch() },
            new FeatureAblationOptions { SampleFeatureGroups = new[] { Pairs, new KernelFeatureGroups(1, new int[5]) } }));
        Assert.Contains("SampleFeatureGroups[1] maps 5 element(s) of input 0; one sample of it has 6", e.Message);
    }
}
