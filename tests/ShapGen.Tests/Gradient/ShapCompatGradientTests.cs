using System;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

/// <summary>
/// shap's expected gradients replayed with given draws, and shap's layer rule, against the closed forms of
/// f_k(x) = Σ_j C_kj tanh((A x)_j)² written out in the test.
/// </summary>
public sealed class ShapCompatGradientTests
{
    private static readonly double[,] A = { { 1.0, -0.5 }, { 0.3, 0.8 } };
    private static readonly double[,] C = { { 1.0, -0.5 }, { 2.0, 0.25 } };
    private static readonly double[][] Background = { new[] { 0.0, 0.0 }, new[] { 0.5, -1.0 }, new[] { -0.7, 0.2 } };
    private static readonly double[][] Samples = { new[] { 1.0, 0.5 }, new[] { -0.4, 1.2 } };
    private static readonly long[,] Index = { { 0, 2, 1, 2 }, { 1, 0, 0, 2 } };
    private static readonly double[,] Alpha = { { 0.1, 0.5, 0.9, 0.3 }, { 0.25, 0.75, 0.6, 0.05 } };

    private sealed class Square : nn.Module<Tensor, Tensor>
    {
        public Square() : base(nameof(Square)) { }

        public override Tensor forward(Tensor x) => x * x;
    }

    /// <summary>Linear A → Tanh → Square (layer "2") → Linear C.</summary>
    private static ExplainableModel Model()
    {
        var first = nn.Linear(2, 2, hasBias: false);
        var last = nn.Linear(2, 2, hasBias: false);
        var model = nn.Sequential(first, nn.Tanh(), new Square(), last);
        model.to(float64);
        using (no_grad())
        {
            first.weight!.copy_(tensor(A.Cast<double>().ToArray(), dtype: float64).view(2, 2));
            last.weight!.copy_(tensor(C.Cast<double>().ToArray(), dtype: float64).view(2, 2));
        }
        return ExplainableModel.Create(model);
    }

    private static double[] Layer(double[] x) =>
        Enumerable.Range(0, 2).Select(j => Math.Tanh(A[j, 0] * x[0] + A[j, 1] * x[1])).ToArray();

    private static double[] Point(double[] x, double[] r, double alpha) => x.Select((v, i) => r[i] + alpha * (v - r[i])).ToArray();

    /// <summary>∂f_k/∂x_i = Σ_j C_kj · 2 tanh(z_j)(1 − tanh²(z_j)) · A_ji.</summary>
    private static double InputGradient(double[] x, int k, int i) =>
        Enumerable.Range(0, 2).Sum(j => C[k, j] * 2 * Layer(x)[j] * (1 - Layer(x)[j] * Layer(x)[j]) * A[j, i]);

    /// <summary>Mean over the given draws of <paramref name="term"/>(x, r, α).</summary>
    private static double Mean(int sample, Func<double[], double[], double, double> term) =>
        Enumerable.Range(0, Index.GetLength(1))
            .Average(d => term(Samples[sample], Background[Index[sample, d]], Alpha[sample, d]));

    private static Tensor Rows(double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), dtype: float64).view(rows.Length, 2);

    private static Explanation Explain(string? layer, GradientExplainOptions options)
    {
        using var background = Rows(Background);
        using var x = Rows(Samples);
        using var explainer = new GradientExplainer(Model(), new[] { background }, layer);
        return explainer.Explain(new[] { x }, options);
    }

    private static GradientExplainOptions Given(LayerAttributionRule rule = LayerAttributionRule.Difference) =>
        new() { Draws = new GradientDraws(Index, Alpha), NSamples = Index.GetLength(1), LayerRule = rule };

    private static void AssertAll(Explanation e, Func<int, int, int, double> expected)
    {
        for (int k = 0; k < 2; k++)
            for (int s = 0; s < 2; s++)
                for (int i = 0; i < 2; i++)
                {
                    double want = expected(k, s, i), got = e[k, 0][s][i].item<double>();
                    Assert.True(Math.Abs(want - got) < 1e-12, $"output {k}, sample {s}, feature {i}: expected {want}, got {got}");
                }
    }

    [Fact]
    public void GivenDrawsReproduceExpectedGradientsExactly()
    {
        using var e = Explain(null, Given());
        AssertAll(e, (k, s, i) => Mean(s, (x, r, a) => InputGradient(Point(x, r, a), k, i) * (x[i] - r[i])));
    }

    [Theory]
    [InlineData(GradientOutputMode.RetainGraph)]
    [InlineData(GradientOutputMode.Replicate)]
    public void ShapLayerRuleInterpolatesTheInputsAndMultipliesByTheLayerInput(GradientOutputMode mode)
    {
        // shap: gradient 2 C_kj a_j at a = tanh(A(r + α(x − r))), times a_j itself.
        var options = Given(LayerAttributionRule.ShapActivation);
        options.OutputMode = mode;
        using var e = Explain("2", options);
        AssertAll(e, (k, s, j) => Mean(s, (x, r, a) => 2 * C[k, j] * Math.Pow(Layer(Point(x, r, a))[j], 2)));
    }

    [Fact]
    public void DefaultLayerRuleInterpolatesTheLayerInputsAndMultipliesByTheirDifference()
    {
        using var e = Explain("2", Given());
        AssertAll(e, (k, s, j) => Mean(s, (x, r, a) =>
        {
            double lx = Layer(x)[j], lr = Layer(r)[j];
            return 2 * C[k, j] * (lr + a * (lx - lr)) * (lx - lr);
        }));
    }

    [Fact]
    public void DrawsThatDoNotFitAreRefusedNamingTheMismatch()
    {
        var rows = Assert.Throws<ArgumentException>(() => Explain(null, new GradientExplainOptions
        {
            Draws = new GradientDraws(new long[,] { { 0, 1, 2, 0 } }, new double[,] { { 0.1, 0.2, 0.3, 0.4 } }), NSamples = 4,
        }));
        Assert.Contains("1 sample(s) but samples 0 to 1 are explained", rows.Message);
        var columns = Assert.Throws<ArgumentException>(() => Explain(null, new GradientExplainOptions { Draws = new GradientDraws(Index, Alpha) }));
        Assert.Contains("4 draw(s) per sample but NSamples is 200", columns.Message);
        var index = Assert.Throws<ArgumentException>(() => Explain(null, new GradientExplainOptions
        {
            Draws = new GradientDraws(new long[,] { { 0 }, { 3 } }, new double[,] { { 0.5 }, { 0.5 } }), NSamples = 1,
        }));
        Assert.Contains("BackgroundIndex[1, 0] is 3 but the background has 3 row(s)", index.Message);

        Assert.Contains("[1, 2] but alpha is [2, 1]",
            Assert.Throws<ArgumentException>(() => new GradientDraws(new long[1, 2], new double[2, 1])).Message);
        Assert.Contains("backgroundIndex[0, 1] is -1",
            Assert.Throws<ArgumentException>(() => new GradientDraws(new long[,] { { 0, -1 } }, new double[1, 2])).Message);
        Assert.Contains("alpha[0, 0] is NaN",
            Assert.Throws<ArgumentException>(() => new GradientDraws(new long[1, 1], new[,] { { double.NaN } })).Message);
        Assert.Contains("alpha[0, 0] is 1.5",
            Assert.Throws<ArgumentException>(() => new GradientDraws(new long[1, 1], new[,] { { 1.5 } })).Message);
        using var floatIndex = zeros(2, 4, dtype: float32);
        using var alpha = full(2, 4, 0.5, dtype: float64);
        Assert.Contains("2-D integer tensor",
            Assert.Throws<ArgumentException>(() => GradientDraws.FromTensors(floatIndex, alpha)).Message);
    }

    [Fact]
    public void A_split_run_with_SampleIndexOffset_replays_the_same_rows_of_draws()
    {
        using var background = Rows(Background);
        using var x = Rows(Samples);
        using var explainer = new GradientExplainer(Model(), new[] { background });
        var second = Given();
        second.SampleIndexOffset = 1;
        using var e = explainer.Explain(new[] { x.narrow(0, 1, 1) }, second);
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < 2; i++)
            {
                double want = Mean(1, (xs, r, a) => InputGradient(Point(xs, r, a), k, i) * (xs[i] - r[i]));
                Assert.True(Math.Abs(want - e[k, 0][0][i].item<double>()) < 1e-12, $"output {k}, feature {i}");
            }
        second.SampleIndexOffset = 2;
        Assert.Contains("samples 2 to 2 are explained",
            Assert.Throws<ArgumentException>(() => explainer.Explain(new[] { x.narrow(0, 1, 1) }, second)).Message);
    }

    [Fact]
    public void FromTensorsKeepsTheValuesAndTheOptionsAreCopied()
    {
        using var index = tensor(Index.Cast<long>().ToArray(), int64).view(2, 4);
        using var alpha = tensor(Alpha.Cast<double>().ToArray(), float64).view(2, 4);
        var options = new GradientExplainOptions
        {
            Draws = GradientDraws.FromTensors(index, alpha), NSamples = 4, LayerRule = LayerAttributionRule.ShapActivation,
        };
        var copy = new GradientExplainOptions(options);
        Assert.Same(options.Draws, copy.Draws);
        Assert.Equal(LayerAttributionRule.ShapActivation, copy.LayerRule);
        Assert.Equal(LayerAttributionRule.Difference, new GradientExplainOptions().LayerRule);
        using var e = Explain(null, copy);
        AssertAll(e, (k, s, i) => Mean(s, (x, r, a) => InputGradient(Point(x, r, a), k, i) * (x[i] - r[i])));
    }
}
