using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ShapGen.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Tests.Samples;

/// <summary>
/// Runs each sample end to end with --quick (tiny settings) as a separate process, the way a user runs it, and
/// checks that it exits cleanly and writes real PNG files. The samples are built by the solution build.
/// </summary>
[Collection(nameof(SampleSmokeTests))]
public sealed class SampleSmokeTests
{
    private static readonly byte[] PngSignature = { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    [Theory]
    [InlineData("TwoInputMnist", new[] { "two-input-flat.png", "two-input-image.png", "two-input-variances.png" }, "")]
    [InlineData("FashionDeep", new[] { "fashion-deepexplainer.png" }, "")]
    [InlineData("OnnxKernelShap", new[] { "kernelshap-binary-mnist.png" }, "")]
    [InlineData("OnnxKernelShap", new[] { "kernelshap-binary-mnist.png" }, "--data {shared}")]
    [InlineData("Vgg16Layer", new[] { "vgg16-features7-ranked.png", "vgg16-features7-smoothed.png" }, "")]
    public async Task Sample_runs_with_quick_settings_and_writes_its_pictures(string sample, string[] pictures, string extra)
    {
        string root = RepoRoot();
        string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        string dll = Path.Combine(root, "samples", sample, "bin", configuration, "net10.0", sample + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first.");
        string output = Directory.CreateTempSubdirectory("shapgen-sample-").FullName;
        string shared = SharedData.Dir;
        if (extra.Contains("{shared}", StringComparison.Ordinal))
            Assert.True(Directory.Exists(shared), $"{shared} is missing: CI provides ../shared/data.");
        try
        {
            var info = new ProcessStartInfo("dotnet", $"exec \"{dll}\" --quick --out \"{output}\" {extra.Replace("{shared}", $"\"{shared}\"", StringComparison.Ordinal)}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = output,
            };
            info.Environment.Remove("SHAPGEN_DATA");
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            await process.WaitForExitAsync(timeout.Token);
            string log = await stdout + await stderr;
            Assert.True(process.ExitCode == 0, $"{sample} exited with {process.ExitCode}:\n{log}");
            foreach (string picture in pictures)
            {
                string path = Path.Combine(output, picture);
                Assert.True(File.Exists(path), $"{sample} did not write {picture}:\n{log}");
                byte[] head = new byte[8];
                using (var file = File.OpenRead(path)) file.ReadExactly(head);
                Assert.Equal(PngSignature, head);
                Assert.Contains(picture, log);
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ShapGen.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("ShapGen.sln not found above " + AppContext.BaseDirectory);
    }
}
