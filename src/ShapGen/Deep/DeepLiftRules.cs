using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// A DeepLIFT rule for one nonlinearity. Forward sees the explained rows x (in the autograd graph) and the matching
/// reference rows r (recorded by a gradient-free reference pass, same shape), computes f(x) and the tensors backward
/// needs; backward maps the gradient of the output to the "multiplier gradient" of the input.
/// </summary>
internal abstract class DeepLiftRule
{
    /// <summary>|x − r| below which the rescale rule falls back to the ordinary gradient (shap's value).</summary>
    internal const double RescaleEpsilon = 1e-6;

    /// <summary>What the rule is applied to, for messages.</summary>
    public abstract string Name { get; }

    /// <summary>The op itself, as torch computes it.</summary>
    public abstract Tensor Plain(Tensor x);

    /// <summary>Computes f(x) and the tensors backward needs (no autograd here).</summary>
    public abstract Tensor Forward(Tensor x, Tensor r, List<Tensor> saved);

    /// <summary>Gradient of the input from the gradient of the output.</summary>
    public abstract Tensor Backward(Tensor gradOut, IReadOnlyList<Tensor> saved);

    protected static Tensor SafeRatio(Tensor num, Tensor den, Tensor fallback, double epsilon)
    {
        var small = den.abs().lt(epsilon);
        var safeDen = where(small, ones_like(den), den);
        return where(small, fallback, num / safeDen);
    }
}

/// <summary>Rescale rule for an elementwise nonlinearity: multiplier (f(x) − f(r)) / (x − r), gradient where x ≈ r.</summary>
internal sealed class ElementwiseRule : DeepLiftRule
{
    private readonly Func<Tensor, Tensor> _f;
    private readonly Func<Tensor, Tensor, Tensor> _derivative; // (x, f(x)) -> f'(x)

    public ElementwiseRule(string name, Func<Tensor, Tensor> f, Func<Tensor, Tensor, Tensor> derivative)
    {
        Name = name;
        _f = f;
        _derivative = derivative;
    }

    public override string Name { get; }

    public override Tensor Plain(Tensor x) => _f(x);

    public override Tensor Forward(Tensor x, Tensor r, List<Tensor> saved)
    {
        var y = _f(x);
        saved.Add(SafeRatio(y - _f(r), x - r, _derivative(x, y), RescaleEpsilon));
        return y;
    }

    public override Tensor Backward(Tensor gradOut, IReadOnlyList<Tensor> saved) => gradOut * saved[0];

    public static ElementwiseRule Relu() => new("ReLU", x => nn.functional.relu(x), (x, _) => x.gt(0).to_type(x.dtype));

    public static ElementwiseRule LeakyRelu(double slope) => new("LeakyReLU", x => nn.functional.leaky_relu(x, slope),
        (x, _) => where(x.gt(0), ones_like(x), full_like(x, slope)));

    public static ElementwiseRule Elu(double alpha) => new("ELU", x => nn.functional.elu(x, alpha),
        (x, _) => where(x.gt(0), ones_like(x), x.exp() * alpha));

    public static ElementwiseRule Sigmoid() => new("Sigmoid", x => x.sigmoid(), (_, y) => y * (1 - y));

    public static ElementwiseRule Tanh() => new("Tanh", x => x.tanh(), (_, y) => 1 - y * y);

    public static ElementwiseRule Softplus(double beta, double threshold) =>
        new("Softplus", x => nn.functional.softplus(x, beta, threshold),
            (x, _) => where((x * beta).gt(threshold), ones_like(x), (x * beta).sigmoid()));
}

/// <summary>
/// Softmax as exp (rescale rule), a sum (linear) and a division e_k / S (a two-input nonlinearity split between its
/// inputs by the two-player Shapley average, as shap's TensorFlow explainer does). x and r are shifted by the
/// same constant (the larger of the two rows' maxima), which leaves softmax unchanged and keeps exp finite.
/// Σ_j Δz_j · ∂ = Σ_k g_k Δs_k holds exactly.
/// </summary>
internal sealed class SoftmaxRule : DeepLiftRule
{
    private readonly long _dim;

    public SoftmaxRule(long dim) => _dim = dim;

    /// <summary>shap's elementwise rule over the same dimension.</summary>
    public ShapSoftmaxRule ShapElementwise() => new(_dim);

    public override string Name => "Softmax";

    public override Tensor Plain(Tensor x) => x.softmax(_dim);

    public override Tensor Forward(Tensor x, Tensor r, List<Tensor> saved)
    {
        var (ex, er, sx, sr, mexp) = Exponentials(x, r, _dim);
        saved.Add((sx.reciprocal() + sr.reciprocal()) * 0.5);    // ∂s_k/∂e_k share
        saved.Add(-(ex + er) * 0.5 / (sx * sr));                   // ∂s_k/∂S share
        saved.Add(mexp);
        return x.softmax(_dim);
    }

    public override Tensor Backward(Tensor g, IReadOnlyList<Tensor> saved) =>
        (g * saved[0] + (g * saved[1]).sum(_dim, keepdim: true)) * saved[2];

    internal static (Tensor ex, Tensor er, Tensor sx, Tensor sr, Tensor mexp) Exponentials(Tensor zx, Tensor zr, long dim)
    {
        var c = maximum(zx.amax(new[] { dim }, keepdim: true), zr.amax(new[] { dim }, keepdim: true));
        var ex = (zx - c).exp();
        var er = (zr - c).exp();
        double tiny = zx.dtype == ScalarType.Float64 ? 1e-300 : 1e-37;
        var sx = ex.sum(dim, keepdim: true).clamp_min(tiny);
        var sr = er.sum(dim, keepdim: true).clamp_min(tiny);
        var mexp = SafeRatio(ex - er, zx - zr, ex, RescaleEpsilon);
        return (ex, er, sx, sr, mexp);
    }
}

/// <summary>
/// shap's PyTorch softmax rule (<see cref="DeepSoftmaxRule.ShapElementwise"/>): the rescale rule applied to each
/// element, multiplier (s_j(x) − s_j(r)) / (x_j − r_j), and the true softmax gradient s ⊙ (g − Σ g s) where
/// |x_j − r_j| &lt; 1e-6, as shap's <c>nonlinear_1d</c> hook does.
/// </summary>
internal sealed class ShapSoftmaxRule : DeepLiftRule
{
    private readonly long _dim;

    public ShapSoftmaxRule(long dim) => _dim = dim;

    public override string Name => "Softmax";

    public override Tensor Plain(Tensor x) => x.softmax(_dim);

    public override Tensor Forward(Tensor x, Tensor r, List<Tensor> saved)
    {
        var y = x.softmax(_dim);
        var delta = x - r;
        var small = delta.abs().lt(RescaleEpsilon);
        saved.Add(where(small, zeros_like(delta), (y - r.softmax(_dim)) / where(small, ones_like(delta), delta)));
        saved.Add(small);
        saved.Add(y);
        return y;
    }

    public override Tensor Backward(Tensor g, IReadOnlyList<Tensor> saved)
    {
        var y = saved[2];
        var gradient = y * (g - (g * y).sum(_dim, keepdim: true));
        return where(saved[1], gradient, g * saved[0]);
    }
}

/// <summary>
/// LogSoftmax as z_k − c − log S with S = Σ exp(z_j − c): the identity, exp (rescale), a sum (linear) and log
/// (rescale). Σ_j Δz_j · ∂ = Σ_k g_k Δ log s_k holds exactly.
/// </summary>
internal sealed class LogSoftmaxRule : DeepLiftRule
{
    private readonly long _dim;

    public LogSoftmaxRule(long dim) => _dim = dim;

    public override string Name => "LogSoftmax";

    public override Tensor Plain(Tensor x) => x.log_softmax(_dim);

    public override Tensor Forward(Tensor x, Tensor r, List<Tensor> saved)
    {
        var (_, _, sx, sr, mexp) = SoftmaxRule.Exponentials(x, r, _dim);
        saved.Add(SafeRatio(sx.log() - sr.log(), sx - sr, sx.reciprocal(), RescaleEpsilon));
        saved.Add(mexp);
        return x.log_softmax(_dim);
    }

    public override Tensor Backward(Tensor g, IReadOnlyList<Tensor> saved) =>
        g - g.sum(_dim, keepdim: true) * saved[0] * saved[1];
}

/// <summary>
/// shap's max-pooling rule: for each window, the output change y − r_y is split into (max(y, r_y) − r_y), sent to
/// the input's arg-max, and (y − max(y, r_y)), sent to the reference's arg-max; each input element's multiplier is
/// what it received divided by its own x − r (zero where |x − r| &lt; 1e-7). Contributions are accumulated
/// (scatter-add), so overlapping windows stay additive too.
/// </summary>
internal sealed class MaxPoolRule : DeepLiftRule
{
    private readonly long[] _kernel;
    private readonly long[] _stride;
    private readonly long[] _padding;
    private readonly long[] _dilation;
    private readonly bool _ceilMode;
    private readonly int _spatial;

    public MaxPoolRule(long[] kernel, long[]? stride, long[]? padding, long[]? dilation, bool ceilMode)
    {
        _spatial = kernel.Length;
        _kernel = kernel;
        _stride = stride is { Length: > 0 } ? stride : kernel;
        _padding = padding is { Length: > 0 } ? padding : new long[_spatial];
        _dilation = dilation is { Length: > 0 } ? dilation : Fill(_spatial, 1);
        _ceilMode = ceilMode;
    }

    public override string Name => _spatial == 1 ? "MaxPool1d" : "MaxPool2d";

    private static long[] Fill(int n, long v)
    {
        var a = new long[n];
        Array.Fill(a, v);
        return a;
    }

    private (Tensor values, Tensor indices) Pool(Tensor x) => _spatial == 1
        ? nn.functional.max_pool1d_with_indices(x, _kernel[0], _stride[0], _padding[0], _dilation[0], _ceilMode)
        : nn.functional.max_pool2d_with_indices(x, _kernel, _stride, _padding, _dilation, _ceilMode);

    public override Tensor Plain(Tensor x) => Pool(x).values;

    public override Tensor Forward(Tensor x, Tensor r, List<Tensor> saved)
    {
        if (x.dim() != _spatial + 2)
            throw new InvalidOperationException(
                $"{Name} under DeepExplainer needs a batched input [N, C, {(_spatial == 1 ? "L" : "H, W")}]; it received {Shapes.Format(x.shape)}.");
        var (y, idx) = Pool(x);
        var (yr, idxr) = Pool(r);
        var m = maximum(y, yr);
        saved.Add(m - yr);
        saved.Add(y - m);
        saved.Add(idx.flatten(2));
        saved.Add(idxr.flatten(2));
        var delta = x - r;
        var small = delta.abs().lt(1e-7);
        saved.Add(where(small, zeros_like(delta), where(small, ones_like(delta), delta).reciprocal()));
        return y;
    }

    public override Tensor Backward(Tensor g, IReadOnlyList<Tensor> saved)
    {
        var inv = saved[4];
        var shape = inv.shape;
        var plane = zeros(shape[0], shape[1], inv[0][0].numel(), dtype: g.dtype, device: g.device);
        plane.scatter_add_(2, saved[2], (g * saved[0]).flatten(2));
        plane.scatter_add_(2, saved[3], (g * saved[1]).flatten(2));
        return plane.view(shape) * inv;
    }
}

/// <summary>What one hooked call needs: the rule, the references, the explanation it belongs to, and where it sits.</summary>
internal sealed class DeepLiftCall
{
    public DeepLiftCall(DeepLiftRule rule, Tensor reference, DeepLiftContext context, string where, Tensor x)
    {
        Rule = rule;
        Reference = reference;
        Context = context;
        Where = where;
        InputShape = x.shape;
        DType = x.dtype;
        Device = x.device;
    }

    public DeepLiftRule Rule { get; }
    public Tensor Reference { get; }
    public DeepLiftContext Context { get; }
    public string Where { get; }
    public long[] InputShape { get; }
    public ScalarType DType { get; }
    public Device Device { get; }
}

/// <summary>The custom autograd node: forward is the op, backward applies the rule's multipliers.</summary>
internal sealed class DeepLiftFunction : autograd.SingleTensorFunction<DeepLiftFunction>
{
    public override string Name => "ShapGenDeepLift";

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var call = (DeepLiftCall)vars[1];
        var saved = new List<Tensor>();
        var y = call.Rule.Forward(x, call.Reference, saved);
        ctx.save_for_backward(saved);
        ctx.save_data("call", call);
        return y;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var call = (DeepLiftCall)ctx.get_data("call");
        // An exception escaping a custom backward kills the process: record it and hand back zeros.
        try
        {
            using var scope = NewDisposeScope();
            var gx = call.Rule.Backward(grad_output, ctx.get_saved_variables());
            return new List<Tensor> { gx.MoveToOuterDisposeScope(), null! };
        }
        catch (Exception e)
        {
            call.Context.RecordError(new InvalidOperationException($"DeepLIFT backward of {call.Where} failed: {e.Message}", e));
            try { return new List<Tensor> { zeros(call.InputShape, dtype: call.DType, device: call.Device), null! }; }
            catch (Exception) { return new List<Tensor> { null!, null! }; }
        }
    }

    /// <summary>
    /// Outside an explanation: the plain op. In the reference pass: records the input and runs the plain op. In the
    /// explained pass: the op with the DeepLIFT rule against the reference recorded for the same call.
    /// </summary>
    public static Tensor Apply(Tensor x, DeepLiftRule rule, DeepLiftContext? context, string where)
    {
        if (context is null)
            return rule.Plain(x);
        if (x.dim() < 1 || x.shape[0] != context.Rows)
            throw new InvalidOperationException(
                $"{where} received {(x.dim() < 1 ? "a scalar" : $"{x.shape[0]} rows")} during a DeepExplainer pass over " +
                $"{context.Rows} rows. DeepLIFT needs every row to pass through the model independently; a model that " +
                "reshapes across the batch dimension cannot be explained this way.");
        if (context.IsReferencePass)
        {
            context.Record(x, where);
            return rule.Plain(x);
        }
        var reference = context.NextReference(x, where);
        if (rule is SoftmaxRule softmax && context.Softmax == DeepSoftmaxRule.ShapElementwise)
            rule = softmax.ShapElementwise();
        return apply(x, new DeepLiftCall(rule, reference, context, where, x));
    }
}
