using System.Collections.Generic;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Input gradients for the engines through <c>torch.autograd.backward(…, inputs)</c>. In TorchSharp 0.107 a libtorch
/// error inside <c>torch.autograd.grad</c> (out of memory included) terminates the process, while <c>backward</c>
/// turns it into an exception that the batch loop can catch and retry at half the batch.
/// </summary>
internal static class Gradients
{
    /// <summary>
    /// The gradients of Σ outputs·gradOutputs with respect to each leaf; null for a leaf the outputs do not depend
    /// on. A result aliases the leaf's <c>.grad</c>: use it before the next call on the same leaves, which clears it.
    /// </summary>
    public static Tensor?[] Of(IList<Tensor> outputs, IList<Tensor>? gradOutputs, IList<Tensor> leaves, bool retainGraph)
    {
        foreach (var leaf in leaves)
            if (leaf.grad is { IsInvalid: false } stale) stale.zero_();
        autograd.backward(outputs, gradOutputs, retain_graph: retainGraph, inputs: leaves);
        var result = new Tensor?[leaves.Count];
        for (int i = 0; i < leaves.Count; i++)
            result[i] = leaves[i].grad is { IsInvalid: false } g ? g : null;
        return result;
    }
}
