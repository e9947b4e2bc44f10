using System;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Deep;

/// <summary>
/// <see cref="DeepSoftmaxRule.ShapElementwise"/> against shap's PyTorch rule written out by hand: softmax(W x) with
/// the multiplier g_j (s_j(x) − s_j(r)) / (z_j − z_j') per logit, and the true gradient s_j (δ_jk − s_k) where the
/// logit does not change (shap's nonlinear_1d fallback).
/// </summary>
public sealed class ShapSoftmaxRuleTests
{
    // The third logit is x0 − x1: for x = (1, 1) against r = (0, 0) it does not change, which takes the fallback.
    private static readonly double[,] W = { { 1, 0 }, { 0, 1 }, { 1, -1 } };
    private static readonly double[][] Background = { new[] { 0.0, 0.0 }, new[] { 0.5, -1.0 } };
    private static readonly double[][] Samples = { new[] { 1.0, 1.0 }, new[] { 2.0, -0.5 } };

    private static nn.Module<Tensor, Tensor> Model()
    {
        var linear = nn.Linear(2, 3, hasBias: false);
        var model = nn.Sequential(linear, nn.Softmax(1));
        model.to(float64);
        using (no_grad())
            linear.weight!.copy_(tensor(new double[] { 1, 0, 0, 1, 1, -1 }, dtype: float64).view(3, 2));
        model.eval();
        return model;
    }

    private static double[] Logits(double[] x) => Enumerable.Range(0, 3).Select(j => W[j, 0] * x[0] + W[j, 1] * x[1]).ToArray();

    private static double[] Softmax(double[] z)
    {
        var e = z.Select(Math.Exp).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }

    /// <summary>shap's attribution of output k to input i, averaged over the background.</summary>
    private static double ShapAttribution(double[] x, int k, int i)
    {
        double total = 0;
        foreach (var r in Background)
        {
            double[] z = Logits(x), zr = Logits(r), s = Softmax(z), sr = Softmax(zr);
            double sum = 0;
            for (int j = 0; j < 3; j++)
            {
                double dz = z[j] - zr[j];
                double m = Math.Abs(dz) < 1e-6 ? s[j] * ((j == k ? 1 : 0) - s[k]) : (j == k ? (s[j] - sr[j]) / dz : 0);
                sum += W[j, i] * m;
            }
            total += (x[i] - r[i]) * sum;
        }
        return total / Background.Length;
    }

    private static Tensor Rows(double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), dtype: float64).view(rows.Length, 2);

    private static Explanation Explain(DeepSoftmaxRule rule)
    {
        using var background = Rows(Background);
        using var x = Rows(Samples);
        using var explainer = new DeepExplainer(ExplainableModel.Create(Model()), new[] { background });
        // shap's rule is not additive where a logit does not change but its probability does (sample 0 against the
        // first background row): shap's own check would fail there too, so it is off for this comparison.
        return explainer.Explain(new[] { x }, new DeepExplainOptions { Softmax = rule, CheckAdditivity = rule == DeepSoftmaxRule.ShapleySplit });
    }

    [Fact]
    public void ShapElementwiseReproducesShapsPyTorchRuleIncludingTheGradientFallback()
    {
        using var e = Explain(DeepSoftmaxRule.ShapElementwise);
        for (int k = 0; k < 3; k++)
            for (int s = 0; s < Samples.Length; s++)
                for (int i = 0; i < 2; i++)
                {
                    double expected = ShapAttribution(Samples[s], k, i);
                    double actual = e[k, 0][s][i].item<double>();
                    Assert.True(Math.Abs(expected - actual) < 1e-12, $"output {k}, sample {s}, input {i}: shap {expected}, ShapGen {actual}");
                }
    }

    [Fact]
    public void ShapleySplitStaysTheDefaultAndDiffersFromShapsRule()
    {
        Assert.Equal(DeepSoftmaxRule.ShapleySplit, new DeepExplainOptions().Softmax);
        using var split = Explain(DeepSoftmaxRule.ShapleySplit);
        using var shap = Explain(DeepSoftmaxRule.ShapElementwise);
        // Where every logit changes (sample 1) both rules are additive, so the totals agree; the split among inputs does not.
        double largest = 0;
        for (int k = 0; k < 3; k++)
        {
            Assert.True((split[k, 0][1].sum() - shap[k, 0][1].sum()).abs().item<double>() < 1e-12);
            largest = Math.Max(largest, (split[k, 0] - shap[k, 0]).abs().max().item<double>());
        }
        Assert.True(largest > 0.01, $"the two rules should split differently; largest difference {largest}");
    }

    [Fact]
    public void TheOptionIsCheckedAndCopied()
    {
        var options = new DeepExplainOptions { Softmax = DeepSoftmaxRule.ShapElementwise };
        Assert.Equal(DeepSoftmaxRule.ShapElementwise, new DeepExplainOptions(options).Softmax);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => options.Softmax = (DeepSoftmaxRule)7);
        Assert.Equal(nameof(DeepExplainOptions.Softmax), e.ParamName);
    }
}
