using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

public sealed class GradientMethodCudaTests
{
    [CudaFact]
    public void Cuda_attributions_match_the_cpu_ones_for_every_method()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var net = nn.Sequential(("conv", nn.Conv2d(1, 2, 3)), ("relu", nn.ReLU()), ("flat", nn.Flatten()), ("head", nn.Linear(72, 3)));
        net.to(float64);
        using var g = new Generator(1);
        var x = randn(new long[] { 3, 1, 8, 8 }, dtype: float64, generator: g);
        Explanation[] Run(Device device)
        {
            net.to(device);
            var model = ExplainableModel.Create(net);
            var xs = new[] { x.to(device) };
            var noise = new NoiseTunnelOptions { Type = NoiseTunnelType.VarGrad, NSamples = 4, Stdevs = new[] { 0.1 } };
            using var cam = new GradCam(model, "conv");
            using var lig = new LayerIntegratedGradients(model, "head", attributeToLayerInput: true);
            return new[]
            {
                new IntegratedGradients(model).Explain(xs, null, new IntegratedGradientsOptions { NSteps = 8 }),
                new Saliency(model).Explain(xs, new SaliencyOptions { Seed = 2, NoiseTunnel = noise }),
                new InputXGradient(model).Explain(xs),
                new DeepLift(model).Explain(xs),
                cam.Explain(xs),
                lig.Explain(xs, null, new IntegratedGradientsOptions { NSteps = 8 }),
            };
        }
        var cpu = Run(CPU);
        var cuda = Run(CUDA);
        for (int m = 0; m < cpu.Length; m++)
        {
            for (int o = 0; o < 3; o++)
                TensorAssert.Close(cpu[m][o, 0], cuda[m][o, 0].cpu(), rtol: 1e-9, atol: 1e-9, what: $"method {m} output {o}");
            cpu[m].Dispose();
            cuda[m].Dispose();
        }
    }
}
