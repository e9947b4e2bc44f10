using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Tests.Deep;

/// <summary>Small float64 models for the DeepExplainer tests.</summary>
internal static class DeepTestModels
{
    /// <summary>Same shape and bitwise-equal values.</summary>
    public static bool IsEqual(this Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var eq = a.eq(b).all();
        return eq.item<bool>();
    }

    public static Tensor Rand(long seed, params long[] shape)
    {
        using var g = new Generator((ulong)seed);
        return randn(shape, dtype: float64, generator: g);
    }

    public static nn.Module<Tensor, Tensor> Seq(long seed, params nn.Module<Tensor, Tensor>[] layers)
    {
        torch.manual_seed(seed);
        var model = nn.Sequential(layers);
        model.to(float64);
        model.eval();
        return model;
    }

    /// <summary>Σ over inputs and features of the attributions of each explained output: [N, k].</summary>
    public static Tensor Totals(Explanation e) =>
        stack(Enumerable.Range(0, e.OutputCount)
            .Select(o => Enumerable.Range(0, e.InputCount).Select(i => e[o, i].flatten(1).sum(1)).Aggregate((a, b) => a + b))
            .ToArray(), 1);

    /// <summary>Largest |f(x) − E[f(bg)] − Σ attributions| over samples and outputs (all outputs explained).</summary>
    public static double AdditivityGap(ExplainableModel model, Tensor[] x, Tensor[] background, Explanation e)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var fx = model.Forward(x);
        var expected = model.Forward(background).mean(new long[] { 0 });
        return (fx - expected - Totals(e)).abs().max().item<double>();
    }
}

/// <summary>Linear → ReLU → Linear with a functional relu (invisible) or DeepLiftOps.Relu.</summary>
internal sealed class FunctionalReluNet : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> first;
    private readonly nn.Module<Tensor, Tensor> second;
    private readonly bool _useOps;

    public FunctionalReluNet(bool useOps, long seed) : base(nameof(FunctionalReluNet))
    {
        torch.manual_seed(seed);
        first = nn.Linear(4, 6);
        second = nn.Linear(6, 3);
        _useOps = useOps;
        RegisterComponents();
        this.to(float64);
    }

    public override Tensor forward(Tensor x)
    {
        var h = first.call(x);
        h = _useOps ? DeepLiftOps.Relu(h) : nn.functional.relu(h);
        return DeepLiftOps.Softmax(second.call(h), 1);
    }
}

/// <summary>One ReLU module object used twice in one forward, or two distinct ones with the same weights.</summary>
internal sealed class ReusedReluNet : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> a;
    private readonly nn.Module<Tensor, Tensor> b;
    private readonly nn.Module<Tensor, Tensor> c;
    private readonly nn.Module<Tensor, Tensor> act1;
    private readonly nn.Module<Tensor, Tensor> act2;

    public ReusedReluNet(bool reuse, long seed) : base(nameof(ReusedReluNet))
    {
        torch.manual_seed(seed);
        a = nn.Linear(5, 7);
        b = nn.Linear(7, 7);
        c = nn.Linear(7, 2);
        act1 = nn.ReLU();
        act2 = reuse ? act1 : nn.ReLU();
        RegisterComponents();
        this.to(float64);
    }

    public override Tensor forward(Tensor x) => c.call(act2.call(b.call(act1.call(a.call(x)))));
}

/// <summary>Two inputs: a vector through Linear+Tanh and an image through Conv+ReLU+MaxPool, joined by Linear.</summary>
internal sealed class TwoInputNet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> dense;
    private readonly nn.Module<Tensor, Tensor> tanh;
    private readonly nn.Module<Tensor, Tensor> conv;
    private readonly nn.Module<Tensor, Tensor> relu;
    private readonly nn.Module<Tensor, Tensor> pool;
    private readonly nn.Module<Tensor, Tensor> head;

    public TwoInputNet(long seed) : base(nameof(TwoInputNet))
    {
        torch.manual_seed(seed);
        dense = nn.Linear(3, 4);
        tanh = nn.Tanh();
        conv = nn.Conv2d(1, 2, 3);
        relu = nn.ReLU();
        pool = nn.MaxPool2d(2);
        head = nn.Linear(4 + 2 * 2 * 2, 3);
        RegisterComponents();
        this.to(float64);
    }

    public override Tensor forward(Tensor v, Tensor image)
    {
        var a = tanh.call(dense.call(v));
        var b = pool.call(relu.call(conv.call(image))).flatten(1);
        return head.call(cat(new[] { a, b }, 1));
    }
}
