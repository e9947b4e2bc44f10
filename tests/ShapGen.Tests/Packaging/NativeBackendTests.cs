using System;
using System.Runtime.InteropServices;
using Xunit;

namespace ShapGen.Tests.Packaging;

public sealed class NativeBackendTests
{
    private const string TorchSharpSaid =
        "This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64, Version=2.10.0.0.\n\nConsider referencing …";

    [Fact]
    public void Linux_x64_message_names_the_cpu_packages_the_cuda_package_and_bring_your_own_libtorch()
    {
        string m = NativeBackend.MissingBackendMessage("Linux", Architecture.X64, "0.107.0", TorchSharpSaid);
        Assert.Contains("on Linux x64", m);
        Assert.Contains("`dotnet add package TorchSharp-cpu --version 0.107.0`", m);
        Assert.Contains("`dotnet add package libtorch-cpu-linux-x64`", m);
        Assert.Contains("names: 2.10.0)", m);
        Assert.Contains("`TorchSharp-cuda-linux` from the public NuGet feed", m);
        Assert.Contains("LD_LIBRARY_PATH=<site-packages>/torch/lib", m);
        // Only TorchSharp's first line is quoted.
        Assert.EndsWith("TorchSharp said: This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64, Version=2.10.0.0.", m);
    }

    [Fact]
    public void Windows_x64_message_names_the_windows_packages_and_no_linux_ones()
    {
        string m = NativeBackend.MissingBackendMessage("Windows", Architecture.X64, "0.107.0", detail: null);
        Assert.Contains("`dotnet add package libtorch-cpu-win-x64`", m);
        Assert.Contains("`TorchSharp-cuda-windows` from the public NuGet feed", m);
        Assert.DoesNotContain("linux", m, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("TorchSharp said", m);
    }

    [Fact]
    public void MacOs_arm64_message_names_the_osx_package_and_says_there_is_no_cuda()
    {
        string m = NativeBackend.MissingBackendMessage("macOS", Architecture.Arm64, "0.107.0", detail: null);
        Assert.Contains("`dotnet add package libtorch-cpu-osx-arm64`", m);
        Assert.Contains("TorchSharp has no CUDA package for this platform", m);
    }

    [Fact]
    public void A_platform_without_a_libtorch_package_is_told_so()
    {
        string m = NativeBackend.MissingBackendMessage("Linux", Architecture.Arm64, "0.107.0", detail: null);
        Assert.Contains("on Linux arm64", m);
        Assert.Contains("TorchSharp 0.107.0 ships no libtorch package for this platform", m);
        Assert.DoesNotContain("dotnet add package", m);
    }

    [Fact]
    public void Native_load_failures_are_recognised_and_other_errors_are_not()
    {
        Assert.True(NativeBackend.IsNativeLoadFailure(new DllNotFoundException("Unable to load shared library 'LibTorchSharp'")));
        Assert.True(NativeBackend.IsNativeLoadFailure(new TypeInitializationException("TorchSharp.torch", new NotSupportedException("no libtorch"))));
        Assert.False(NativeBackend.IsNativeLoadFailure(new TypeInitializationException("MyApp.Settings", new NotSupportedException())));
        Assert.False(NativeBackend.IsNativeLoadFailure(new NotSupportedException("Specified method is not supported.")));
        Assert.False(NativeBackend.IsNativeLoadFailure(new ArgumentException("x")));
    }

    [Fact]
    public void EnsureLoaded_passes_where_the_backend_is_referenced()
    {
        // The test project references libtorch-cpu-linux-x64: the check must not throw (twice: the second is cached).
        NativeBackend.EnsureLoaded();
        NativeBackend.EnsureLoaded();
        Assert.True(TorchSharp.torch.get_num_threads() >= 1);
    }
}
