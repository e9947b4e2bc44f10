using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>Checks the native stack on the target: libtorch loads, the device works, autograd runs.</summary>
public sealed class ProbeBenchmark : IBenchmark
{
    public string Name => "probe";
    public string Description => "native stack check: device, a 2048x2048 matmul and a gradient";

    public void Run(BenchmarkOptions options, Reporter reporter)
    {
        var device = options.Device;
        using var scope = NewDisposeScope();
        var a = randn(2048, 2048, device: device);
        reporter.RunCase(new Dictionary<string, object?> { ["workload"] = "probe", ["case"] = "matmul", ["title"] = "2048x2048 matmul" },
            new[] { new Phase("matmul_2048", "2048x2048 matmul", () => { using var s = NewDisposeScope(); a.matmul(a).sum(); }) },
            options.Repeats, device);
        var x = tensor(new[] { 1.0f, 2.0f, 3.0f }, device: device).requires_grad_();
        var grad = autograd.grad(new[] { (x * x).sum() }, new[] { x })[0].cpu().data<float>().ToArray();
        reporter.Report(new Dictionary<string, object?>
        {
            ["workload"] = "probe",
            ["case"] = "check",
            ["device"] = device.ToString(),
            ["cuda_available"] = Devices.CudaAvailable,
            ["cuda_devices"] = Devices.CudaAvailable ? torch.cuda.device_count() : 0,
            ["grad_x2_at_1_2_3"] = grad,
        });
    }
}
