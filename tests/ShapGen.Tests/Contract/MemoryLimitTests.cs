using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using ShapGen.Tests.Gradient;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Contract;

/// <summary>Memory limits and huge NSamples: a clear exception or smaller batches, never an abort or a runaway allocation.</summary>
[Collection(EngineContractCollection.Name)]
public sealed class MemoryLimitTests
{
    /// <summary>
    /// A child process limits its address space (RLIMIT_AS, as <c>ulimit -v</c>) to what it uses plus a headroom, then
    /// explains. Default batches must be sized from the limit; batches forced too large must run out of memory inside
    /// the backward pass and be halved (TorchSharp's autograd.grad would abort the process there: exit 134).
    /// </summary>
    [Theory]
    [InlineData(700, null, "BudgetLimited")]
    [InlineData(220, 640, "BatchHalved")]
    public async System.Threading.Tasks.Task A_gradient_explanation_under_an_address_space_limit_completes_and_never_aborts(
        int headroomMiB, int? maxBatchRows, string expectedEvent)
    {
        if (!OperatingSystem.IsLinux()) return;
        string dll = typeof(ChildProcessEntry).Assembly.Location;
        var arguments = new[] { dll, "--gradient-under-memory-limit", headroomMiB.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (maxBatchRows is int rows) arguments = arguments.Append(rows.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var start = new ProcessStartInfo("dotnet", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var child = Process.Start(start)!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await child.WaitForExitAsync(timeout.Token);
        string output = await stdout + await stderr;
        Assert.True(child.ExitCode == 0, $"exit code {child.ExitCode} (134 is an abort inside libtorch):\n{output}");
        Assert.Contains("DONE True", output);
        Assert.Contains(expectedEvent, output);
    }

    [Fact]
    public void Gradient_nsamples_of_a_billion_draws_per_batch_instead_of_allocating_tables_up_front()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new SmallMlp(4, 5, 2));
        using var explainer = new GradientExplainer(model, new[] { randn(3, 4, dtype: float64) });
        _ = explainer.ExpectedValues;
        using var cts = new CancellationTokenSource();
        var progress = new RecordingProgress(_ => cts.Cancel());
        Assert.ThrowsAny<OperationCanceledException>(() => explainer.Explain(new[] { randn(2, 4, dtype: float64) },
            new GradientExplainOptions { NSamples = 1_000_000_000, Progress = progress, LocalSmoothing = 0.1 }, cts.Token));
        var first = Assert.Single(progress.Reports);
        Assert.Equal(2_000_000_000L, first.Total);
        Assert.InRange(first.Done, 1, Batching.CpuTargetRows);
    }

    [Fact]
    public void Kernel_nsamples_of_a_billion_is_refused_before_any_work_naming_the_need_and_the_budget()
    {
        using var scope = NewDisposeScope();
        var model = new ExplainableModel(x => x[0].sum(1, keepdim: true), 1);
        using var explainer = new KernelExplainer(model, new[] { zeros(1, 64, dtype: float64) });
        var progress = new RecordingProgress();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => explainer.ExplainFeatures(new[] { ones(1, 64, dtype: float64) },
            new KernelExplainOptions { NSamples = 1_000_000_000, Progress = progress }));
        Assert.Equal("NSamples", e.ParamName);
        Assert.Contains("1000000000 coalitions of 64 features", e.Message);
        Assert.Contains("the memory budget is", e.Message);
        Assert.Empty(progress.Reports);
    }

    [Fact]
    public void Image_kernelshap_with_nsamples_of_a_billion_is_refused_before_any_work()
    {
        using var scope = NewDisposeScope();
        var model = new ExplainableModel(x => x[0].flatten(1).mean(new long[] { 1 }, keepdim: true), 1);
        var image = rand(28, 28, 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => KernelImageExplainer.Explain(model, image, new[] { 0 },
            new KernelImageOptions { Kernel = { NSamples = 1_000_000_000 }, Slic = { NSegments = 100 } }));
        Assert.Equal("NSamples", e.ParamName);
        Assert.Contains("the memory budget is", e.Message);
    }
}
