using Xunit;

namespace ShapGen.Tests.Infrastructure;

/// <summary>A fact that runs only where CUDA is usable, and reports as skipped with the reason elsewhere.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!Devices.CudaAvailable)
            Skip = "CUDA is not available on this machine (torch.cuda.is_available() is false).";
    }
}
