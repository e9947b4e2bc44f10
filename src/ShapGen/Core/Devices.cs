using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>Chooses the device explainers run on, with errors that say what was probed.</summary>
public static class Devices
{
    /// <summary>True when libtorch reports a usable CUDA device.</summary>
    public static bool CudaAvailable
    {
        get
        {
            try { return torch.cuda.is_available(); }
            catch (Exception) { return false; }
        }
    }

    /// <summary>CUDA when available, otherwise the CPU.</summary>
    public static Device Best => CudaAvailable ? CUDA : CPU;

    /// <summary>Returns the CUDA device, or throws an error that names what was probed.</summary>
    /// <exception cref="InvalidOperationException">No CUDA device is usable.</exception>
    public static Device RequireCuda()
    {
        if (CudaAvailable)
            return CUDA;
        string libraryPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "(unset)";
        throw new InvalidOperationException(
            "CUDA was requested but torch.cuda.is_available() is false. Probed libtorch loaded by TorchSharp " +
            $"{typeof(torch).Assembly.GetName().Version}; LD_LIBRARY_PATH={libraryPath}. Reference a CUDA libtorch " +
            "(TorchSharp-cuda-linux) or point LD_LIBRARY_PATH at a PyTorch installation's torch/lib " +
            "(see README, 'CUDA').");
    }
}
