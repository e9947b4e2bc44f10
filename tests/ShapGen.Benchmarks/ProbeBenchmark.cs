using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>Checks the native stack on the target: libtorch loads, the device works, autograd runs.</summary>
public sealed class ProbeBenchmark : IBenchmark
{
    public string Name => "probe";
    public string Description => "native stack check: device, a 2048x2048 matmul and a gradient";

    public void Run(BenchmarkOptions options)
    {
        var device = options.Device;
        using var scope = NewDisposeScope();
        var a = randn(2048, 2048, device: device);
        double seconds = Measure.Median(() => { using var s = NewDisposeScope(); a.matmul(a).sum(); }, device, options.Repeats);
        var x = tensor(new[] { 1.0f, 2.0f, 3.0f }, device: device).requires_grad_();
        var grad = autograd.grad(new[] { (x * x).sum() }, new[] { x })[0].cpu().data<float>().ToArray();
        Measure.Report(new Dictionary<string, object?>
        {
            ["workload"] = "probe",
            ["device"] = device.ToString(),
            ["cuda_available"] = Devices.CudaAvailable,
            ["cuda_devices"] = Devices.CudaAvailable ? torch.cuda.device_count() : 0,
            ["matmul_2048_s"] = System.Math.Round(seconds, 5),
            ["grad_x2_at_1_2_3"] = grad,
        });
    }
}
