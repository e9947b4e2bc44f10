using System;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

public sealed class LayerConductanceTests
{
    private static readonly double[,] W = { { 1.0, -1.0, 0.5 }, { 2.0, 0.25, -1.5 } };
    private static readonly double[] B = { 0.2, -0.1 };
    private static readonly double[,] A = { { 1.5, -0.5 }, { -2.0, 1.0 } };
    private static readonly double[,] Xs = { { 1, 2, -1 }, { 0.5, -0.5, 3 } };
    private static readonly double[,] Bs = { { 0.1, 0.2, 0.3 }, { -1, 0, 1 } };

    /// <summary>x → body: z = W x + B → head: f_o = Σ_h A[o, h] z_h², float64.</summary>
    private sealed class LinearThenSquares : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> body = new KnownLinear(W, B);
        private readonly nn.Module<Tensor, Tensor> head = new PowerSum(A, 2);

        public LinearThenSquares() : base(nameof(LinearThenSquares)) => RegisterComponents();

        public override Tensor forward(Tensor x) => head.call(body.call(x));
    }

    /// <summary>x → hidden = tanh(W x + B) → f = A · hidden: nonlinear in x, linear after the layer's input.</summary>
    private sealed class TanhNet : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> body = new KnownLinear(W, B);
        private readonly nn.Module<Tensor, Tensor> hidden = nn.Tanh();
        private readonly nn.Module<Tensor, Tensor> head = new PowerSum(A, 3);

        public TanhNet() : base(nameof(TanhNet)) => RegisterComponents();

        public override Tensor forward(Tensor x) => head.call(hidden.call(body.call(x)));
    }

    private static double Z(double[,] x, int s, int h) => B[h] + Enumerable.Range(0, 3).Sum(i => W[h, i] * x[s, i]);

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(50)]
    public void Conductance_of_a_layer_linear_in_the_input_is_the_hand_derived_left_sum(int steps)
    {
        // z(α) = z_b + α Δz, ∂f_o/∂z_h = 2 A[o,h] z_h, so Σ_{t<n} 2 A z_h(t/n) Δz_h / n = 2 A Δz_h (z_bh + Δz_h (n − 1) / 2n).
        using var model = new LinearThenSquares();
        using var conductance = new LayerConductance(ExplainableModel.Create(model), "body");
        using var x = tensor(Xs);
        using var b = tensor(Bs);
        using var result = conductance.Explain(new[] { x }, new[] { b }, new LayerConductanceOptions { NSteps = steps });
        for (int o = 0; o < 2; o++)
        {
            var actual = result[o, 0].data<double>().ToArray();
            Assert.Equal(new long[] { 2, 2 }, result[o, 0].shape);
            for (int s = 0; s < 2; s++)
                for (int h = 0; h < 2; h++)
                {
                    double zb = Z(Bs, s, h), dz = Z(Xs, s, h) - zb;
                    double expected = 2 * A[o, h] * dz * (zb + dz * (steps - 1) / (2.0 * steps));
                    Assert.Equal(expected, actual[s * 2 + h], 12);
                }
        }
    }

    [Fact]
    public void Summed_over_the_layer_it_approaches_the_integrated_gradients_total_at_rate_one_over_n()
    {
        using var net = new TanhNet();
        var model = ExplainableModel.Create(net);
        using var x = tensor(Xs);
        using var b = tensor(Bs);
        using var ig = new IntegratedGradients(model).Explain(new[] { x }, new[] { b }, new IntegratedGradientsOptions { NSteps = 64 });
        using var conductance = new LayerConductance(model, "hidden");
        double Gap(int steps)
        {
            using var result = conductance.Explain(new[] { x }, new[] { b }, new LayerConductanceOptions { NSteps = steps });
            double worst = 0;
            for (int o = 0; o < 2; o++)
            {
                using var total = result[o, 0].sum(1);
                using var igTotal = ig[o, 0].sum(1);
                worst = Math.Max(worst, (total - igTotal).abs().max().ToDouble());
            }
            return worst;
        }
        double g16 = Gap(16), g64 = Gap(64), g256 = Gap(256);
        Assert.True(g16 > 1e-4, $"the left sum at 16 steps should still be visibly off; gap {g16}");
        Assert.InRange(g16 / g64, 3.0, 5.0);    // first order: 4× more steps, 4× smaller gap
        Assert.InRange(g64 / g256, 3.0, 5.0);
    }

    [Fact]
    public void Results_do_not_depend_on_the_batch_size_and_ranked_outputs_pick_the_top_output()
    {
        using var net = new TanhNet();
        var model = ExplainableModel.Create(net);
        using var x = tensor(Xs);
        using var b = tensor(Bs);
        using var conductance = new LayerConductance(model, "hidden");
        using var whole = conductance.Explain(new[] { x }, new[] { b });
        using var oneByOne = conductance.Explain(new[] { x }, new[] { b }, new LayerConductanceOptions { MaxBatchRows = 1 });
        for (int o = 0; o < 2; o++)
            Assert.True((whole[o, 0] - oneByOne[o, 0]).abs().max().ToDouble() < 1e-12);

        using var ranked = conductance.Explain(new[] { x }, new[] { b }, new LayerConductanceOptions { RankedOutputs = 1 });
        using var outputs = net.call(x);
        var top = outputs.argmax(1).data<long>().ToArray();
        for (int s = 0; s < 2; s++)
            Assert.True((ranked[0, 0][s] - whole[(int)top[s], 0][s]).abs().max().ToDouble() == 0);
        using var expected = net.call(b).mean(new long[] { 0 });
        Assert.True((whole.ExpectedValues - expected).abs().max().ToDouble() < 1e-12);
    }

    [Fact]
    public void Bad_options_and_layers_are_refused_by_name()
    {
        using var net = new TanhNet();
        var model = ExplainableModel.Create(net);
        Assert.Equal("NSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new LayerConductanceOptions { NSteps = 0 }).ParamName);
        Assert.Equal("layer", Assert.Throws<ArgumentException>(() => new LayerConductance(model, "nope")).ParamName);
        using var conductance = new LayerConductance(model, "hidden");
        using var x = tensor(Xs);
        var noise = Assert.Throws<ArgumentException>(() => conductance.Explain(new[] { x }, null,
            new LayerConductanceOptions { NoiseTunnel = new NoiseTunnelOptions() }));
        Assert.Contains("noise tunnel", noise.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => conductance.Explain(new[] { x }, null, new LayerConductanceOptions { Target = 2 }));
    }
}
