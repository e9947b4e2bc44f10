using System;
using Xunit;
using static ShapGen.Tests.Perturbation.PerturbationTestModels;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

public sealed class PerturbationBadInputTests
{
    private static Tensor[] Inputs() => new[] { randn(2, 3, 5, dtype: float64), randn(2, 4, dtype: float64) };

    private static OcclusionOptions Windows(long[] first, long[]? firstStride = null) => new()
    {
        SlidingWindowShapes = new[] { first, new long[] { 2 } },
        Strides = firstStride is null ? null : new[] { firstStride, new long[] { 1 } },
    };

    [Theory]
    [InlineData("missing", "SlidingWindowShapes is required")]
    [InlineData("rank", "give one window size per dimension")]
    [InlineData("too large", "dimension 1 must be between 1 and the input's 5")]
    [InlineData("stride beyond window", "dimension 0 must be between 1 and the window's 2")]
    [InlineData("zero stride", "dimension 1 must be between 1 and the window's 2")]
    public void Occlusion_rejects_bad_windows_naming_them(string name, string message)
    {
        using var scope = NewDisposeScope();
        var options = name switch
        {
            "missing" => new OcclusionOptions(),
            "rank" => Windows(new long[] { 2 }),
            "too large" => Windows(new long[] { 2, 6 }),
            "stride beyond window" => Windows(new long[] { 2, 2 }, new long[] { 3, 1 }),
            _ => Windows(new long[] { 2, 2 }, new long[] { 1, 0 }),
        };
        var e = Assert.Throws<ArgumentException>(() => new Occlusion(TwoInputs()).Explain(Inputs(), options));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Bad_baselines_are_named_with_the_expected_and_actual_shapes()
    {
        using var scope = NewDisposeScope();
        var ablation = new FeatureAblation(TwoInputs(), inputNames: new[] { "grid", "vector" });
        var wrongShape = new FeatureAblationOptions { Baselines = new[] { zeros(3, 4, dtype: float64), zeros(4, dtype: float64) } };
        var e = Assert.Throws<ArgumentException>(() => ablation.Explain(Inputs(), wrongShape));
        Assert.Contains("'Baselines' input 0 ('grid') has shape [3, 4]; expected one sample's shape [3, 5], the batch's [2, 3, 5]", e.Message);
        var tooFew = new FeatureAblationOptions { Baselines = new[] { zeros(3, 5, dtype: float64) } };
        Assert.Contains("has 1 tensor(s); the model takes 2 input(s)", Assert.Throws<ArgumentException>(() => ablation.Explain(Inputs(), tooFew)).Message);
        var nan = new FeatureAblationOptions { Baselines = new[] { zeros(3, 5, dtype: float64), full(4, double.NaN, dtype: float64) } };
        Assert.Contains("input 1 ('vector') contains NaN", Assert.Throws<ArgumentException>(() => ablation.Explain(Inputs(), nan)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeatureAblationOptions { Baseline = double.PositiveInfinity });
    }

    [Fact]
    public void Bad_inputs_groups_and_options_fail_before_any_model_call()
    {
        using var scope = NewDisposeScope();
        int calls = 0;
        var inner = TwoInputs();
        var counting = new ExplainableModel(x => { calls++; return inner.Forward(x); }, 2);
        var sampling = new ShapleyValueSampling(counting);
        Assert.Contains("The model takes 2 input(s); 'inputs' has 1", Assert.Throws<ArgumentException>(() => sampling.Explain(new[] { randn(2, 15, dtype: float64) })).Message);
        var withNan = Inputs();
        withNan[1][0, 0] = tensor(double.NaN, float64);
        Assert.Contains("'inputs' input 1 contains NaN", Assert.Throws<ArgumentException>(() => sampling.Explain(withNan)).Message);
        var groups = new KernelFeatureGroups(2, new int[15], new int[3]);
        Assert.Contains("FeatureGroups maps 3 element(s) of input 1; one sample of it has 4",
            Assert.Throws<ArgumentException>(() => sampling.Explain(Inputs(), new ShapleyValueSamplingOptions { FeatureGroups = groups })).Message);
        Assert.Contains("FeatureGroups covers 1 input(s); the model takes 2",
            Assert.Throws<ArgumentException>(() => sampling.Explain(Inputs(), new ShapleyValueSamplingOptions { FeatureGroups = new KernelFeatureGroups(1, new int[15]) })).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShapleyValueSamplingOptions { NSamples = 0 });
        Assert.Equal(0, calls);
        Assert.Throws<ArgumentOutOfRangeException>(() => sampling.Explain(Inputs(), new ShapleyValueSamplingOptions { RankedOutputs = 4, NSamples = 1 }));
    }

    [Fact]
    public void A_model_that_returns_nan_on_a_perturbed_row_is_reported()
    {
        using var scope = NewDisposeScope();
        var model = new ExplainableModel(x => x[0].log().sum(1, keepdim: true), 1);
        var e = Assert.Throws<ArgumentException>(() => new FeatureAblation(model).Explain(new[] { rand(2, 3, dtype: float64) + 1 }, new FeatureAblationOptions { Baseline = -1 }));
        Assert.Contains("The model returns NaN for output 0", e.Message);
    }
}
