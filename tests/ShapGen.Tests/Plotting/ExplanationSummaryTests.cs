using System;
using System.Linq;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Plotting;

public sealed class ExplanationSummaryTests
{
    [Fact]
    public void Lists_expected_value_sum_and_top_features_by_magnitude_with_sign()
    {
        using var scope = NewDisposeScope();
        // One sample, two outputs, one input of 5 features.
        var o0 = tensor(new[] { 0.1f, -0.7f, 0.3f, 0f, 0.5f }, new long[] { 1, 5 });
        var o1 = tensor(new[] { 0f, 0f, -0.25f, 2f, 0f }, new long[] { 1, 5 });
        using var e = new Explanation(new[] { new[] { o0 }, new[] { o1 } }, tensor(new[] { 0.5, 1.5 }), labels: new[] { "cat", "dog" });
        string text = ExplanationSummary.Format(e, new ExplanationSummaryOptions { TopK = 3, InputNames = new[] { "pixels" } });
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        // Sum for "cat": 0.1 − 0.7 + 0.3 + 0 + 0.5 = 0.2; E + sum = 0.7.
        int cat = Array.FindIndex(lines, l => l.Contains("output 0 'cat'"));
        Assert.True(cat >= 0, text);
        Assert.Contains("E[f] = 0.5", lines[cat]);
        Assert.Contains("sum of attributions = +0.2", lines[cat]);
        Assert.Contains("E[f] + sum = 0.7", lines[cat]);
        Assert.Contains("input 0 ('pixels') [5], top 3 features", lines[cat + 1]);
        Assert.Equal(new[] { "-0.7  at [1]", "+0.5  at [4]", "+0.3  at [2]" }, lines.Skip(cat + 2).Take(3).Select(l => l.Trim()));
        int dog = Array.FindIndex(lines, l => l.Contains("output 1 'dog'"));
        Assert.Contains("E[f] + sum = 3.25", lines[dog]);
        Assert.Equal("+2  at [3]", lines[dog + 2].Trim());
    }

    [Fact]
    public void Regions_sum_channels_and_blocks_and_ranked_outputs_use_their_model_output()
    {
        using var scope = NewDisposeScope();
        // One sample, [2 channels, 4, 4]; the bottom-right 2×2 block sums to −4 (both channels), top-left to +1.
        var v = zeros(1, 2, 4, 4);
        v[0, 0, 0, 0] = tensor(1f);
        v[0, 1, 3, 3] = tensor(-3f);
        v[0, 0, 2, 2] = tensor(-1f);
        using var e = new Explanation(new[] { new[] { v } }, tensor(new[] { 0.1, 0.2, 0.3 }),
                                      outputIndexes: tensor(new long[] { 2 }, new long[] { 1, 1 }));
        string text = ExplanationSummary.Format(e, new ExplanationSummaryOptions { TopK = 2, RegionSize = 2 });
        Assert.Contains("rank 0: output 2 '2': E[f] = 0.3, sum of attributions = -3, E[f] + sum = -2.7", text);
        var lines = text.Split('\n').Select(l => l.Trim()).ToArray();
        int head = Array.FindIndex(lines, l => l.Contains("top 2 2x2 regions"));
        Assert.Equal("-4  at rows 2-3, cols 2-3", lines[head + 1]);
        Assert.Equal("+1  at rows 0-1, cols 0-1", lines[head + 2]);
    }

    [Fact]
    public void Sample_option_limits_the_output_and_bad_options_are_rejected()
    {
        using var scope = NewDisposeScope();
        using var e = new Explanation(new[] { new[] { randn(3, 4) } }, zeros(1));
        string text = ExplanationSummary.Format(e, new ExplanationSummaryOptions { Sample = 1 });
        Assert.Contains("Sample 1", text);
        Assert.DoesNotContain("Sample 0", text);
        Assert.Throws<ArgumentOutOfRangeException>(() => ExplanationSummary.Format(e, new ExplanationSummaryOptions { Sample = 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExplanationSummary.Format(e, new ExplanationSummaryOptions { TopK = 0 }));
    }
}
