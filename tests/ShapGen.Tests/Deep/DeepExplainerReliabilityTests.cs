using System;
using System.Collections.Generic;
using System.Linq;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static ShapGen.Tests.Deep.DeepTestModels;
using static TorchSharp.torch;

namespace ShapGen.Tests.Deep;

[CollectionDefinition("DeepSequential", DisableParallelization = true)]
public sealed class DeepSequentialCollection
{
}

[Collection("DeepSequential")]
public sealed class DeepExplainerReliabilityTests
{
    /// <summary>Takes an extra ReLU when the batch mean is large: a different path for inputs than for references.</summary>
    private sealed class BranchingNet : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> layer;

        public BranchingNet() : base(nameof(BranchingNet))
        {
            torch.manual_seed(3);
            layer = nn.Linear(3, 2);
            RegisterComponents();
            this.to(float64);
        }

        public override Tensor forward(Tensor x)
        {
            var h = DeepLiftOps.Relu(layer.call(x));
            return x.mean().item<double>() > 100 ? DeepLiftOps.Tanh(h) : h;
        }
    }

    private sealed class FailingRule : DeepLiftRule
    {
        public override string Name => "Failing";

        public override Tensor Plain(Tensor x) => x.relu();

        public override Tensor Forward(Tensor x, Tensor r, List<Tensor> saved) => x.relu();

        public override Tensor Backward(Tensor gradOut, IReadOnlyList<Tensor> saved) =>
            throw new InvalidOperationException("rule exploded");
    }

    private sealed class FailingBackwardNet : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> layer;

        public FailingBackwardNet() : base(nameof(FailingBackwardNet))
        {
            torch.manual_seed(3);
            layer = nn.Linear(3, 2);
            RegisterComponents();
            this.to(float64);
        }

        public override Tensor forward(Tensor x) =>
            DeepLiftFunction.Apply(layer.call(x), new FailingRule(), DeepLiftContext.Current, "FailingRule");
    }

    [Fact]
    public void Different_paths_for_inputs_and_references_are_an_error()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new BranchingNet());
        using var explainer = new DeepExplainer(model, new[] { Rand(1, 4, 3) });
        var error = Assert.Throws<InvalidOperationException>(() => explainer.Explain(new[] { Rand(2, 2, 3) + 1000 }));
        Assert.Contains("different path", error.Message);
    }

    [Fact]
    public void An_exception_in_a_custom_backward_is_rethrown_without_killing_the_process()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new FailingBackwardNet());
        using var explainer = new DeepExplainer(model, new[] { Rand(1, 4, 3) });
        var error = Assert.Throws<InvalidOperationException>(() => explainer.Explain(new[] { Rand(2, 2, 3) }));
        Assert.Contains("rule exploded", error.Message);
        Assert.Contains("FailingRule", error.Message);
    }

    [Fact]
    public void Repeated_explanations_keep_the_number_of_live_tensors_flat()
    {
        var module = Seq(1, nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 3), nn.Softmax(1));
        var model = ExplainableModel.Create(module);
        var background = Rand(1, 5, 1, 8, 8);
        var x = Rand(2, 3, 1, 8, 8);
        using var explainer = new DeepExplainer(model, new[] { background });
        var options = new DeepExplainOptions { MaxBatchRows = 8 };
        explainer.Explain(new[] { x }, options).Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = torch.Tensor.TotalCount;
        for (int i = 0; i < 20; i++)
            explainer.Explain(new[] { x }, options).Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long growth = torch.Tensor.TotalCount - before;
        Assert.True(growth <= 5, $"live tensors grew by {growth} over 20 explanations");
    }

    [Fact]
    public void An_input_the_model_ignores_gets_zero_attributions()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        var layer = nn.Linear(3, 2);
        layer.to(float64);
        var model = new ExplainableModel(x => DeepLiftOps.Tanh(layer.call(x[0])), 2, layer);
        var background = new[] { Rand(1, 4, 3), Rand(2, 4, 5) };
        var x = new[] { Rand(3, 2, 3), Rand(4, 2, 5) };
        using var explainer = new DeepExplainer(model, background);
        using var e = explainer.Explain(x);
        Assert.Equal(0.0, e[0, 1].abs().max().item<double>());
        Assert.True(e[0, 0].abs().max().item<double>() > 0);
        Assert.True(AdditivityGap(model, x, background, e) < 1e-10);
    }

    [Fact]
    public void Two_explainers_on_one_eval_model_from_two_threads_match_sequential_results()
    {
        var module = Seq(1, nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 3), nn.Softmax(1));
        var model = ExplainableModel.Create(module);
        var bgA = Rand(1, 5, 1, 8, 8);
        var bgB = Rand(2, 4, 1, 8, 8);
        var xA = Rand(3, 3, 1, 8, 8);
        var xB = Rand(4, 2, 1, 8, 8);
        using var a = new DeepExplainer(model, new[] { bgA });
        using var b = new DeepExplainer(model, new[] { bgB });
        var options = new DeepExplainOptions { MaxBatchRows = 4 };
        Tensor Run(DeepExplainer e, Tensor x)
        {
            using var r = e.Explain(new[] { x }, options);
            return r.ToShapLayout(0);
        }
        var seqA = Run(a, xA);
        var seqB = Run(b, xB);
        var results = new Tensor[2][];
        System.Threading.Tasks.Parallel.Invoke(
            () => results[0] = Enumerable.Range(0, 3).Select(_ => Run(a, xA)).ToArray(),
            () => results[1] = Enumerable.Range(0, 3).Select(_ => Run(b, xB)).ToArray());
        Assert.All(results[0], t => Assert.True(t.IsEqual(seqA)));
        Assert.All(results[1], t => Assert.True(t.IsEqual(seqB)));
        foreach (var t in results.SelectMany(r => r).Append(seqA).Append(seqB)) t.Dispose();
    }

    [CudaFact]
    public void Cuda_explanation_matches_the_cpu_one()
    {
        using var scope = NewDisposeScope();
        var module = Seq(1, nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 3), nn.Softmax(1));
        var background = Rand(1, 5, 1, 8, 8);
        var x = Rand(2, 3, 1, 8, 8);
        using var cpu = new DeepExplainer(ExplainableModel.Create(module), new[] { background });
        using var onCpu = cpu.Explain(new[] { x });
        cpu.Dispose();
        module.to(CUDA);
        using var gpu = new DeepExplainer(ExplainableModel.Create(module), new[] { background.to(CUDA) });
        using var onGpu = gpu.Explain(new[] { x.to(CUDA) });
        for (int o = 0; o < 3; o++)
            Assert.True(onGpu[o, 0].cpu().allclose(onCpu[o, 0], rtol: 0, atol: 1e-9));
    }
}
