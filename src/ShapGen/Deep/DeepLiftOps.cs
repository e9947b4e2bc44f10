using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Functional nonlinearities that DeepExplainer can see. Outside an explanation each behaves exactly like the
/// torch function of the same name; while a <see cref="DeepExplainer"/> runs its paired forward pass on this thread,
/// each applies the DeepLIFT rule (rescale for elementwise ops, shap's rules for softmax and max-pooling). Use them
/// instead of <c>nn.functional.relu(x)</c> etc. inside a model's <c>forward</c> (the ShapGen generator rewrites such
/// calls for annotated models); a plain functional call is invisible to DeepLIFT and fails the additivity check.
/// </summary>
public static class DeepLiftOps
{
    private static Tensor Run(Tensor x, DeepLiftRule rule, string name)
    {
        ArgumentNullException.ThrowIfNull(x);
        return DeepLiftFunction.Apply(x, rule, DeepLiftContext.Current, $"DeepLiftOps.{name}");
    }

    /// <summary>ReLU: max(x, 0).</summary>
    /// <param name="x">Input tensor.</param>
    public static Tensor Relu(Tensor x) => Run(x, ElementwiseRule.Relu(), nameof(Relu));

    /// <summary>Logistic sigmoid.</summary>
    /// <param name="x">Input tensor.</param>
    public static Tensor Sigmoid(Tensor x) => Run(x, ElementwiseRule.Sigmoid(), nameof(Sigmoid));

    /// <summary>Hyperbolic tangent.</summary>
    /// <param name="x">Input tensor.</param>
    public static Tensor Tanh(Tensor x) => Run(x, ElementwiseRule.Tanh(), nameof(Tanh));

    /// <summary>ELU: x for x &gt; 0, alpha·(exp(x) − 1) otherwise.</summary>
    /// <param name="x">Input tensor.</param>
    /// <param name="alpha">Scale of the negative part.</param>
    public static Tensor Elu(Tensor x, double alpha = 1.0) => Run(x, ElementwiseRule.Elu(alpha), nameof(Elu));

    /// <summary>Leaky ReLU: x for x &gt; 0, negativeSlope·x otherwise.</summary>
    /// <param name="x">Input tensor.</param>
    /// <param name="negativeSlope">Slope of the negative part.</param>
    public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01) =>
        Run(x, ElementwiseRule.LeakyRelu(negativeSlope), nameof(LeakyRelu));

    /// <summary>Softplus: log(1 + exp(beta·x)) / beta, linear above <paramref name="threshold"/>.</summary>
    /// <param name="x">Input tensor.</param>
    /// <param name="beta">Sharpness.</param>
    /// <param name="threshold">Above beta·x &gt; threshold the function is the identity.</param>
    public static Tensor Softplus(Tensor x, double beta = 1, double threshold = 20) =>
        Run(x, ElementwiseRule.Softplus(beta, threshold), nameof(Softplus));

    /// <summary>Softmax along <paramref name="dim"/>.</summary>
    /// <param name="x">Input tensor.</param>
    /// <param name="dim">Dimension that sums to one.</param>
    public static Tensor Softmax(Tensor x, long dim) => Run(x, new SoftmaxRule(dim), nameof(Softmax));

    /// <summary>Log-softmax along <paramref name="dim"/>.</summary>
    /// <param name="x">Input tensor.</param>
    /// <param name="dim">Dimension normalised.</param>
    public static Tensor LogSoftmax(Tensor x, long dim) => Run(x, new LogSoftmaxRule(dim), nameof(LogSoftmax));

    /// <summary>2-D max pooling of a batched [N, C, H, W] input with square windows.</summary>
    /// <param name="x">Input tensor.</param>
    /// <param name="kernelSize">Window size.</param>
    /// <param name="stride">Step; defaults to <paramref name="kernelSize"/>.</param>
    /// <param name="padding">Implicit negative-infinity padding on both sides.</param>
    /// <param name="dilation">Spacing between window elements.</param>
    /// <param name="ceilMode">Use ceil instead of floor for the output size.</param>
    public static Tensor MaxPool2d(Tensor x, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false) =>
        MaxPool2d(x, new[] { kernelSize, kernelSize }, stride is null ? null : new[] { stride.Value, stride.Value },
                  new[] { padding, padding }, new[] { dilation, dilation }, ceilMode);

    /// <summary>2-D max pooling of a batched [N, C, H, W] input.</summary>
    /// <param name="x">Input tensor.</param>
    /// <param name="kernelSize">Window size (height, width).</param>
    /// <param name="stride">Step (height, width); null means <paramref name="kernelSize"/>.</param>
    /// <param name="padding">Padding (height, width); null means none.</param>
    /// <param name="dilation">Dilation (height, width); null means 1.</param>
    /// <param name="ceilMode">Use ceil instead of floor for the output size.</param>
    public static Tensor MaxPool2d(Tensor x, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(kernelSize);
        if (kernelSize.Length != 2)
            throw new ArgumentException($"kernelSize must have 2 elements; it has {kernelSize.Length}.", nameof(kernelSize));
        return Run(x, new MaxPoolRule(kernelSize, stride, padding, dilation, ceilMode), nameof(MaxPool2d));
    }

    /// <summary>1-D max pooling of a batched [N, C, L] input.</summary>
    /// <param name="x">Input tensor.</param>
    /// <param name="kernelSize">Window size.</param>
    /// <param name="stride">Step; defaults to <paramref name="kernelSize"/>.</param>
    /// <param name="padding">Implicit negative-infinity padding on both sides.</param>
    /// <param name="dilation">Spacing between window elements.</param>
    /// <param name="ceilMode">Use ceil instead of floor for the output size.</param>
    public static Tensor MaxPool1d(Tensor x, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false) =>
        Run(x, new MaxPoolRule(new[] { kernelSize }, stride is null ? null : new[] { stride.Value }, new[] { padding },
                               new[] { dilation }, ceilMode), nameof(MaxPool1d));
}
