using System;
using System.Linq;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

public sealed class IntegratedGradientsTests
{
    private static readonly double[,] Weights = { { 1.5, -2.0, 0.5 }, { -0.25, 3.0, 1.0 } };
    private static readonly double[] Bias = { 0.3, -0.7 };

    public static TheoryData<IntegrationMethod, int> RulesAndSteps()
    {
        var data = new TheoryData<IntegrationMethod, int>();
        foreach (var method in Enum.GetValues<IntegrationMethod>())
            foreach (int steps in new[] { 2, 7, 50 })
                data.Add(method, steps);
        data.Add(IntegrationMethod.GaussLegendre, 1);
        data.Add(IntegrationMethod.RiemannMiddle, 1);
        return data;
    }

    [Theory]
    [MemberData(nameof(RulesAndSteps))]
    public void Linear_model_gives_w_times_x_minus_b_for_every_rule(IntegrationMethod method, int steps)
    {
        var model = ExplainableModel.Create(new KnownLinear(Weights, Bias));
        using var x = tensor(new double[,] { { 1, 2, 3 }, { -1, 0.5, 4 } });
        using var b = tensor(new double[,] { { 0.5, -1, 2 }, { 0, 0, 0 } }); // one baseline per sample
        var ig = new IntegratedGradients(model);
        using var result = ig.Explain(new[] { x }, new[] { b }, new IntegratedGradientsOptions { Method = method, NSteps = steps });
        Assert.Equal(2, result.OutputCount);
        Assert.False(result.IsRanked);
        for (int o = 0; o < 2; o++)
        {
            var expected = new double[2, 3];
            for (int s = 0; s < 2; s++)
                for (int i = 0; i < 3; i++)
                    expected[s, i] = Weights[o, i] * (x[s, i].item<double>() - b[s, i].item<double>());
            using var e = tensor(expected);
            TensorAssert.Close(e, result[o, 0], rtol: 1e-13, atol: 1e-13, what: $"{method} n={steps} output {o}");
        }
        // Expected values: f(b) averaged over the two per-sample baselines.
        double f0 = (Bias[0] + 1.5 * 0.5 + -2.0 * -1 + 0.5 * 2 + Bias[0]) / 2;
        Assert.Equal(f0, result.ExpectedValue(0), 12);
    }

    [Theory]
    [InlineData(IntegrationMethod.GaussLegendre, 0.0)]
    [InlineData(IntegrationMethod.RiemannMiddle, 0.0)]
    [InlineData(IntegrationMethod.RiemannTrapezoid, 0.0)]
    [InlineData(IntegrationMethod.RiemannLeft, -1.0)]
    [InlineData(IntegrationMethod.RiemannRight, 1.0)]
    public void Quadratic_model_matches_the_rule_error_in_closed_form(IntegrationMethod method, double errorSign)
    {
        // f = Σ a x²: the integrand 2a(b + α d)d is linear in α. Midpoint, trapezoid and Gauss–Legendre integrate it
        // exactly; the left (right) sum misses (adds) a·d²/n.
        double[,] a = { { 2.0, -1.0, 0.5 } };
        var model = ExplainableModel.Create(new PowerSum(a, 2));
        using var x = tensor(new double[,] { { 1, -2, 3 } });
        using var b = tensor(new double[] { 0.5, 1, -1 });  // the per-sample shape: one baseline for all samples
        const int n = 8;
        using var result = new IntegratedGradients(model).Explain(new[] { x }, new[] { b },
            new IntegratedGradientsOptions { Method = method, NSteps = n });
        var expected = new double[1, 3];
        for (int i = 0; i < 3; i++)
        {
            double xi = x[0, i].item<double>(), bi = b[i].item<double>(), d = xi - bi;
            expected[0, i] = a[0, i] * (xi * xi - bi * bi) + errorSign * a[0, i] * d * d / n;
        }
        using var e = tensor(expected);
        TensorAssert.Close(e, result[0, 0], rtol: 1e-13, atol: 1e-13, what: method.ToString());
    }

    [Theory]
    [InlineData(IntegrationMethod.RiemannLeft, 1)]
    [InlineData(IntegrationMethod.RiemannRight, 1)]
    [InlineData(IntegrationMethod.RiemannMiddle, 2)]
    [InlineData(IntegrationMethod.RiemannTrapezoid, 2)]
    public void Quartic_model_error_shrinks_at_the_rule_order(IntegrationMethod method, int order)
    {
        // f = a x⁴: IG = a(x⁴ − b⁴); the integrand is cubic in α, so the error is c/n^order + O(1/n^(order+1)).
        double[,] a = { { 1.0, 0.5 } };
        var model = ExplainableModel.Create(new PowerSum(a, 4));
        using var x = tensor(new double[,] { { 1.5, -2 } });
        using var b = tensor(new double[,] { { 0.2, 0.5 } });
        double[] Error(int steps)
        {
            using var r = new IntegratedGradients(model).Explain(new[] { x }, new[] { b }, new IntegratedGradientsOptions { Method = method, NSteps = steps });
            return Enumerable.Range(0, 2).Select(i =>
            {
                double xi = x[0, i].item<double>(), bi = b[0, i].item<double>();
                return r[0, 0][0, i].item<double>() - a[0, i] * (Math.Pow(xi, 4) - Math.Pow(bi, 4));
            }).ToArray();
        }
        var coarse = Error(64);
        var fine = Error(128);
        for (int i = 0; i < 2; i++)
        {
            Assert.True(Math.Abs(coarse[i]) > 1e-8, $"error at n=64 is {coarse[i]}: the test needs a visible error");
            double ratio = coarse[i] / fine[i];
            Assert.InRange(ratio, Math.Pow(2, order) * 0.9, Math.Pow(2, order) * 1.1);
        }
    }

    [Fact]
    public void Gauss_Legendre_is_exact_on_the_quartic_from_two_steps_and_uses_the_textbook_nodes()
    {
        var (alphas, weights) = IntegrationRule.For(IntegrationMethod.GaussLegendre, 3);
        double h = 0.5 * Math.Sqrt(3.0 / 5);
        Assert.Equal(new[] { 0.5 - h, 0.5, 0.5 + h }, alphas, new Tolerance(1e-15));
        Assert.Equal(new[] { 5.0 / 18, 8.0 / 18, 5.0 / 18 }, weights, new Tolerance(1e-15));

        double[,] a = { { 1.0, 0.5 } };
        var model = ExplainableModel.Create(new PowerSum(a, 4));
        using var x = tensor(new double[,] { { 1.5, -2 } });
        using var r = new IntegratedGradients(model).Explain(new[] { x }, null, new IntegratedGradientsOptions { NSteps = 2 });
        using var expected = tensor(new double[,] { { Math.Pow(1.5, 4), 0.5 * 16 } });
        TensorAssert.Close(expected, r[0, 0], rtol: 1e-13, atol: 1e-13);
    }

    [Fact]
    public void Convergence_delta_equals_the_completeness_gap()
    {
        double[,] a = { { 2.0, -1.0, 0.5 }, { 1.0, 1.0, 1.0 } };
        var net = new PowerSum(a, 2);
        var model = ExplainableModel.Create(net);
        using var x = tensor(new double[,] { { 1, -2, 3 }, { 0.5, 0.5, -0.5 } });
        using var b = tensor(new double[,] { { 0.1, 0.2, 0.3 } });
        const int n = 5;
        using var result = new IntegratedGradients(model).Explain(new[] { x }, new[] { b },
            new IntegratedGradientsOptions { Method = IntegrationMethod.RiemannLeft, NSteps = n, RankedOutputs = 2 }, out var delta);
        using (delta)
        {
            Assert.Equal(new long[] { 2, 2 }, delta.shape);
            var indexes = result.RankedIndexes()!;
            using var fx = net.forward(x);
            using var fb = net.forward(b);
            for (int s = 0; s < 2; s++)
                for (int j = 0; j < 2; j++)
                {
                    long o = indexes[s][j];
                    double sum = result[j, 0][s].sum().item<double>();
                    double gap = sum - (fx[s, o].item<double>() - fb[0, o].item<double>());
                    // The left sum misses Σ a d²/n: the gap is known in closed form, and is not 0.
                    double closed = 0;
                    for (int i = 0; i < 3; i++)
                    {
                        double d = x[s, i].item<double>() - b[0, i].item<double>();
                        closed -= a[o, i] * d * d / n;
                    }
                    Assert.Equal(closed, gap, 12);
                    Assert.Equal(gap, delta[s, j].item<double>(), 12);
                }
        }
    }

    [Fact]
    public void Target_explains_one_output_for_every_sample()
    {
        var model = ExplainableModel.Create(new KnownLinear(Weights, Bias));
        using var x = tensor(new double[,] { { 1, 2, 3 }, { -1, 0.5, 4 } });
        using var result = new IntegratedGradients(model, labels: new[] { "cat", "dog" })
            .Explain(new[] { x }, null, new IntegratedGradientsOptions { Target = 1 });
        Assert.Equal(1, result.OutputCount);
        Assert.Equal(new[] { new long[] { 1 }, new long[] { 1 } }, result.RankedIndexes());
        using var expected = x * tensor(new[] { -0.25, 3.0, 1.0 });
        TensorAssert.Close(expected, result[0, 0], rtol: 1e-13, atol: 1e-13);
        Assert.Equal("dog", result.LabelOf(1));
    }

    [Fact]
    public void Batch_size_does_not_change_the_result()
    {
        var model = ExplainableModel.Create(new SmallMlp(4, 6, 3));
        using var x = randn(5, 4, dtype: float64);
        Tensor Run(int? rows)
        {
            using var r = new IntegratedGradients(model).Explain(new[] { x }, null, new IntegratedGradientsOptions { NSteps = 9, MaxBatchRows = rows });
            return stack(Enumerable.Range(0, 3).Select(o => r[o, 0]).ToArray(), 0).DetachFromDisposeScope();
        }
        using var whole = Run(null);
        foreach (int rows in new[] { 1, 4, 9, 13 })
        {
            using var split = Run(rows);
            TensorAssert.Close(whole, split, rtol: 1e-12, atol: 1e-14, what: $"MaxBatchRows = {rows}");
        }
    }

    [Fact]
    public void Two_input_mnist_model_attributes_both_inputs_and_its_delta_is_the_gap()
    {
        manual_seed(3);
        var net = new TwoInputMnistNet();
        var model = ExplainableModel.Create(net);
        using var flat = rand(2, 1, 28, 28);
        using var image = rand(2, 1, 28, 28);
        using var result = new IntegratedGradients(model, inputNames: new[] { "flat", "image" })
            .Explain(new[] { flat, image }, null, new IntegratedGradientsOptions { NSteps = 16, RankedOutputs = 2 }, out var delta);
        using (delta)
        {
            Assert.Equal(2, result.InputCount);
            Assert.Equal(flat.shape, result[0, 0].shape);
            Assert.Equal(image.shape, result[0, 1].shape);
            net.eval();
            using var fx = net.forward(flat, image);
            using var f0 = net.forward(zeros(1, 1, 28, 28), zeros(1, 1, 28, 28));
            var indexes = result.RankedIndexes()!;
            for (int s = 0; s < 2; s++)
                for (int j = 0; j < 2; j++)
                {
                    long o = indexes[s][j];
                    double sum = result[j, 0][s].to_type(ScalarType.Float64).sum().item<double>() + result[j, 1][s].to_type(ScalarType.Float64).sum().item<double>();
                    double gap = sum - (fx[s, o].item<float>() - f0[0, o].item<float>());
                    Assert.Equal(gap, delta[s, j].item<float>(), 4);
                    Assert.True(result[j, 1][s].abs().sum().item<float>() > 0, "the image input gets attributions");
                }
        }
    }

    private sealed class Tolerance : System.Collections.Generic.IEqualityComparer<double>
    {
        private readonly double _tolerance;
        public Tolerance(double tolerance) => _tolerance = tolerance;
        public bool Equals(double a, double b) => Math.Abs(a - b) <= _tolerance;
        public int GetHashCode(double value) => 0;
    }
}
