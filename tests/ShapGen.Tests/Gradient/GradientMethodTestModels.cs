using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

/// <summary>f_k(x) = Σ_i a[k, i] · x_i^p: separable, so integrated gradients of x_i is a[k, i](x_i^p − b_i^p) exactly.</summary>
internal sealed class PowerSum : nn.Module<Tensor, Tensor>
{
    private readonly Tensor _a;
    private readonly int _power;

    public PowerSum(double[,] a, int power) : base(nameof(PowerSum))
    {
        _a = tensor(a, dtype: float64);
        _power = power;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x.pow(_power).matmul(_a.t());
}

/// <summary>f(x) = [sin(x0)·x1, x0² + 3·x1]: gradients [cos(x0)·x1, sin(x0)] and [2·x0, 3], written out by hand in tests.</summary>
internal sealed class TwoByTwo : nn.Module<Tensor, Tensor>
{
    public TwoByTwo() : base(nameof(TwoByTwo)) => RegisterComponents();

    public override Tensor forward(Tensor x)
    {
        var x0 = x.select(1, 0);
        var x1 = x.select(1, 1);
        return stack(new[] { x0.sin() * x1, x0.square() + 3 * x1 }, 1);
    }
}

/// <summary>Two inputs: f(u, v) = [a·Σu² + c·Σv²]; the gradient of u does not depend on v.</summary>
internal sealed class TwoInputSquares : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly double _a, _c;

    public TwoInputSquares(double a, double c) : base(nameof(TwoInputSquares))
    {
        (_a, _c) = (a, c);
        RegisterComponents();
    }

    public override Tensor forward(Tensor u, Tensor v) => (u.square().sum(1) * _a + v.square().sum(1) * _c).unsqueeze(1);
}

/// <summary>A model whose output leaves autograd: its gradients are all 0.</summary>
internal sealed class DetachedNet : nn.Module<Tensor, Tensor>
{
    public DetachedNet() : base(nameof(DetachedNet)) => RegisterComponents();

    public override Tensor forward(Tensor x) => x.square().sum(1, keepdim: true).detach();
}
