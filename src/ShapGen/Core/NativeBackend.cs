using System;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using TorchSharp;

namespace ShapGen;

/// <summary>
/// Checks that TorchSharp's native library (LibTorchSharp and libtorch) loads, and otherwise says which package the
/// application must add for its operating system. ShapGen depends on the managed <c>TorchSharp</c> package only, as
/// TorchSharp advises for libraries: the application chooses the native backend.
/// </summary>
public static class NativeBackend
{
    private static volatile bool s_loaded;

    /// <summary>
    /// Loads TorchSharp's native library, or throws an <see cref="InvalidOperationException"/> that names the
    /// package(s) to add for this operating system and processor (TorchSharp's own error is its inner exception).
    /// ShapGen calls it before its first use of TorchSharp; an application may call it first thing to get this
    /// message instead of TorchSharp's when the backend is missing.
    /// </summary>
    /// <exception cref="InvalidOperationException">The native library cannot be loaded.</exception>
    public static void EnsureLoaded()
    {
        if (s_loaded) return;
        try
        {
            _ = torch.get_num_threads();
        }
        catch (Exception e) when (IsNativeLoadFailure(e))
        {
            throw new InvalidOperationException(
                MissingBackendMessage(CurrentOs(), RuntimeInformation.ProcessArchitecture, TorchSharpVersion(), Innermost(e).Message), e);
        }
        s_loaded = true;
    }

    /// <summary>
    /// True for the ways TorchSharp 0.107 reports a missing native library: <see cref="DllNotFoundException"/> from a
    /// P/Invoke, or the <c>TorchSharp.torch</c> type initializer failing (with a <see cref="NotSupportedException"/>
    /// from its loader inside).
    /// </summary>
    internal static bool IsNativeLoadFailure(Exception e) => e switch
    {
        DllNotFoundException => true,
        TypeInitializationException t => t.TypeName?.StartsWith("TorchSharp", StringComparison.Ordinal) == true,
        NotSupportedException n => n.Message.Contains("libtorch", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>
    /// The message for a missing backend on <paramref name="os"/> ("Linux", "Windows", "macOS", or another name)
    /// and <paramref name="arch"/>: the CPU and CUDA packages that exist for that platform, with
    /// <paramref name="torchSharpVersion"/> (the managed TorchSharp package's version) and TorchSharp's own first
    /// line (<paramref name="detail"/>).
    /// </summary>
    internal static string MissingBackendMessage(string os, Architecture arch, string torchSharpVersion, string? detail)
    {
        string rid = (os, arch) switch
        {
            ("Linux", Architecture.X64) => "linux-x64",
            ("Windows", Architecture.X64) => "win-x64",
            ("Windows", Architecture.Arm64) => "win-arm64",
            ("macOS", Architecture.Arm64) => "osx-arm64",
            _ => "",
        };
        var sb = new StringBuilder();
        sb.Append("ShapGen could not load TorchSharp's native library (LibTorchSharp and libtorch) on ")
          .Append(os).Append(' ').Append(arch.ToString().ToLowerInvariant())
          .Append(": the application references no libtorch backend package, or its files are missing from the output. ")
          .Append("ShapGen, like TorchSharp, leaves the backend to the application. ");
        if (rid.Length == 0)
        {
            sb.Append("TorchSharp ").Append(torchSharpVersion).Append(" ships no libtorch package for this platform ")
              .Append("(its packages cover linux-x64, win-x64, win-arm64 and osx-arm64); build libtorch for it and load ")
              .Append("its LibTorchSharp with System.Runtime.InteropServices.NativeLibrary.Load before using ShapGen.");
        }
        else
        {
            sb.Append("Add to the application project: `dotnet add package TorchSharp-cpu --version ").Append(torchSharpVersion)
              .Append("` (CPU, every platform) or `dotnet add package libtorch-cpu-").Append(rid)
              .Append("` (CPU, ").Append(rid).Append(" only, at the libtorch version this TorchSharp names");
            string? libtorch = detail is null ? null : Regex.Match(detail, @"Version=(\d+\.\d+\.\d+)").Groups[1].Value;
            if (!string.IsNullOrEmpty(libtorch)) sb.Append(": ").Append(libtorch);
            sb.Append(')');
            if (os == "Linux")
                sb.Append("; for CUDA, `TorchSharp-cuda-linux` from the public NuGet feed, or an existing PyTorch installation's ")
                  .Append("libraries with LD_LIBRARY_PATH=<site-packages>/torch/lib and no backend package (ShapGen's docs/cuda.md).");
            else if (os == "Windows" && arch == Architecture.X64)
                sb.Append("; for CUDA, `TorchSharp-cuda-windows` from the public NuGet feed.");
            else
                sb.Append("; TorchSharp has no CUDA package for this platform.");
        }
        if (!string.IsNullOrWhiteSpace(detail))
            sb.Append(" TorchSharp said: ").Append(FirstLine(detail));
        return sb.ToString();
    }

    private static string CurrentOs() =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? "Linux"
        : RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "Windows"
        : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "macOS"
        : RuntimeInformation.OSDescription;

    private static string TorchSharpVersion()
    {
        var version = typeof(torch).Assembly.GetName().Version;
        return version is null ? "?" : $"{version.Major}.{version.Minor}.{version.Build}";
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(new[] { '\r', '\n' });
        return (end < 0 ? text : text[..end]).Trim();
    }
}
