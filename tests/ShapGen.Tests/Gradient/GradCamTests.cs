using System;
using System.Linq;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

public sealed class GradCamTests
{
    private static readonly double[,,] Kernel = { { { 1.0, -0.5 }, { 0.25, 2.0 } }, { { -1.0, 0.5 }, { 1.5, -0.25 } } };
    private static readonly double[] ConvBias = { 0.1, -0.2 };
    private static readonly double[,] Head =
    {
        { 0.5, -1.0, 2.0, 0.25, -0.75, 1.0, 0.5, -0.5 },
        { -0.3, 0.2, 0.1, 1.2, 0.9, -1.1, 0.4, 0.6 },
    };

    /// <summary>[N, 1, 3, 3] → conv (2 channels, 2×2) → [N, 2, 2, 2] → flatten → linear → [N, 2].</summary>
    private sealed class TinyConv : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> conv;
        private readonly nn.Module<Tensor, Tensor> head;
        private readonly bool _twice;

        public TinyConv(bool twice = false) : base(nameof(TinyConv))
        {
            var c = nn.Conv2d(1, 2, 2, dtype: float64);
            var h = nn.Linear(8, 2, dtype: float64);
            using (no_grad())
            {
                c.weight!.copy_(tensor(Kernel).unsqueeze(1));
                c.bias!.copy_(tensor(ConvBias));
                h.weight!.copy_(tensor(Head));
                h.bias!.zero_();
            }
            conv = c;
            head = h;
            _twice = twice;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var a = conv.call(x);
            if (_twice) a = a + conv.call(x);
            return head.call(a.flatten(1));
        }
    }

    /// <summary>Grad-CAM written out: A by the convolution sum, ∂f_o/∂A = the head's weights, w_c their spatial mean.</summary>
    private static double[,] HandMap(double[,] x, int output, bool relu)
    {
        var map = new double[2, 2];
        for (int c = 0; c < 2; c++)
        {
            double w = 0;
            for (int p = 0; p < 4; p++) w += Head[output, c * 4 + p] / 4;
            for (int h = 0; h < 2; h++)
                for (int v = 0; v < 2; v++)
                {
                    double a = ConvBias[c];
                    for (int p = 0; p < 2; p++)
                        for (int q = 0; q < 2; q++)
                            a += Kernel[c, p, q] * x[h + p, v + q];
                    map[h, v] += w * a;
                }
        }
        if (relu)
            for (int h = 0; h < 2; h++)
                for (int v = 0; v < 2; v++)
                    map[h, v] = Math.Max(0, map[h, v]);
        return map;
    }

    /// <summary>Bilinear 2 → 3 with align_corners = false: rows and columns become (m0, (m0 + m1)/2, m1).</summary>
    private static double[,] Upsample(double[,] m)
    {
        double[] Line(double a, double b) => new[] { a, (a + b) / 2, b };
        var rows = new[] { Line(m[0, 0], m[0, 1]), Line(m[1, 0], m[1, 1]) };
        var result = new double[3, 3];
        for (int c = 0; c < 3; c++)
        {
            var column = Line(rows[0][c], rows[1][c]);
            for (int r = 0; r < 3; r++) result[r, c] = column[r];
        }
        return result;
    }

    private static readonly double[][,] Images =
    {
        new double[,] { { 0.5, -1.0, 2.0 }, { 1.5, 0.0, -0.5 }, { 0.25, 1.0, -2.0 } },
        new double[,] { { -1.0, 0.3, 0.7 }, { 0.2, -0.4, 1.1 }, { 2.0, 0.5, -0.6 } },
    };

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Map_matches_the_hand_derived_grad_cam(bool relu, bool upsample)
    {
        var model = ExplainableModel.Create(new TinyConv());
        using var x = stack(Images.Select(i => tensor(i)).ToArray(), 0).unsqueeze(1);
        using var cam = new GradCam(model, "conv");
        using var result = cam.Explain(new[] { x }, new GradCamOptions { ReluAttributions = relu, Upsample = upsample, MaxBatchRows = 1 });
        Assert.Equal(2, result.OutputCount);
        for (int o = 0; o < 2; o++)
        {
            var expected = Images.Select(image =>
            {
                var map = HandMap(image, o, relu);
                return tensor(upsample ? Upsample(map) : map);
            }).ToArray();
            using var e = stack(expected, 0).unsqueeze(1);
            TensorAssert.Close(e, result[o, 0], rtol: 1e-13, atol: 1e-13, what: $"output {o}");
        }
    }

    [Fact]
    public void Ranked_outputs_carry_their_indexes()
    {
        var model = ExplainableModel.Create(new TinyConv());
        using var x = stack(Images.Select(i => tensor(i)).ToArray(), 0).unsqueeze(1);
        using var cam = new GradCam(model, "conv");
        using var result = cam.Explain(new[] { x }, new GradCamOptions { RankedOutputs = 1, Upsample = false });
        using var y = model.Forward(x);
        var top = result.RankedIndexes()!;
        for (int s = 0; s < 2; s++)
        {
            Assert.Equal(y[s].argmax().item<long>(), top[s][0]);
            using var e = tensor(HandMap(Images[s], (int)top[s][0], false));
            TensorAssert.Close(e, result[0, 0][s, 0], rtol: 1e-13, atol: 1e-13);
        }
    }

    [Fact]
    public void Layers_grad_cam_cannot_use_get_clear_errors()
    {
        var model = ExplainableModel.Create(new TinyConv());
        using var x = stack(Images.Select(i => tensor(i)).ToArray(), 0).unsqueeze(1);
        using (var cam = new GradCam(model, "head"))
        {
            var e = Assert.Throws<InvalidOperationException>(() => cam.Explain(new[] { x }));
            Assert.Contains("Grad-CAM needs a layer whose output is [N, C, H, W] (a convolutional layer); layer 'head' returns [2, 2]", e.Message);
        }
        var unknown = Assert.Throws<ArgumentException>(() => new GradCam(model, "nope"));
        Assert.Contains("no submodule 'nope'", unknown.Message);
        using (var twice = new GradCam(ExplainableModel.Create(new TinyConv(twice: true)), "conv"))
        {
            var e = Assert.Throws<InvalidOperationException>(() => twice.Explain(new[] { x }));
            Assert.Contains("invoked 2 times", e.Message);
        }
        using (var cam = new GradCam(model, "conv"))
        {
            var e = Assert.Throws<ArgumentException>(() => cam.Explain(new[] { x.flatten(1) }, new GradCamOptions()));
            Assert.Contains("Upsample needs a model input shaped [N, C, H, W]", e.Message);
        }
    }
}
