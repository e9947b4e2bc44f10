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
/// checks that it exits cleanly and writes real PNG files. The test project references the samples, so they are
/// built before the tests run.
/// </summary>
[Collection(nameof(SampleSmokeTests))]
public sealed class SampleSmokeTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(8);

    private static readonly byte[] PngSignature = { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    [Theory]
    [InlineData("TwoInputMnist", new[] { "two-input-flat.png", "two-input-image.png", "two-input-variances.png", "two-input-methods.png" })]
    [InlineData("FashionDeep", new[] { "fashion-deepexplainer.png" })]
    [InlineData("OnnxKernelShap", new[] { "kernelshap-binary-mnist.png", "methods-binary-mnist.png" })]
    [InlineData("Vgg16Layer", new[] { "vgg16-features7-ranked.png", "vgg16-features7-smoothed.png" })]
    public Task Sample_runs_with_quick_settings_and_writes_its_pictures(string sample, string[] pictures) =>
        Run(sample, pictures, "");

    [SharedDataFact("binary-mnist-model.onnx", "binary-mnist.npz")]
    public Task OnnxKernelShap_runs_on_the_real_model_and_digits() =>
        Run("OnnxKernelShap", new[] { "kernelshap-binary-mnist.png", "methods-binary-mnist.png" }, $"--data \"{SharedData.Dir}\"",
            "Explaining with ONNX model " + SharedData.File("binary-mnist-model.onnx"), "of X_test in " + SharedData.File("binary-mnist.npz"));

    private static async Task Run(string sample, string[] pictures, string extra, params string[] expectedInLog)
    {
        string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        string dll = Path.Combine(SharedData.RepoRoot, "samples", sample, "bin", configuration, "net10.0", sample + ".dll");
        // The test project references every sample, so building the tests builds them.
        Assert.True(File.Exists(dll), $"{dll} is missing although ShapGen.Tests references {sample}.csproj.");
        string output = Directory.CreateTempSubdirectory("shapgen-sample-").FullName;
        try
        {
            var info = new ProcessStartInfo("dotnet", $"exec \"{dll}\" --quick --out \"{output}\" {extra}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = output,
            };
            info.Environment.Remove(SharedData.Variable);
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            // Generous: a --quick run takes well under a minute alone, but several times that on a machine shared by many builds.
            using var timeout = new CancellationTokenSource(Limit);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                Assert.Fail($"{sample} did not finish within {Limit.TotalMinutes} minutes and was stopped:\n{await stdout + await stderr}");
            }
            string log = await stdout + await stderr;
            Assert.True(process.ExitCode == 0, $"{sample} exited with {process.ExitCode}:\n{log}");
            foreach (string line in expectedInLog) Assert.Contains(line, log);
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
}
