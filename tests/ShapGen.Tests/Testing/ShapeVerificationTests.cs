using System;
using System.Diagnostics;
using System.Linq;
using ShapGen.Samples.Fashion;
using ShapGen.Samples.TwoInput;
using ShapGen.Samples.Vgg;
using TorchSharp;
using Xunit;

namespace ShapGen.Tests.Testing;

/// <summary>ShapeVerification on the sample models, on every layer kind, and on models whose bugs it must name.</summary>
[Collection(nameof(ShapeVerificationTests))]
public sealed class ShapeVerificationTests
{
    [Fact]
    public void TheSampleModelsVerify()
    {
        Assert.True(ShapeVerification.Verify(() => new TwoInputMnist()).Ok);
        Assert.True(ShapeVerification.Verify(() => new FashionCnn()).Ok);
        var watch = Stopwatch.StartNew();
        var vgg = ShapeVerification.Verify(() => new Vgg16());
        Assert.True(vgg.Ok, vgg.ToString());
        // Batch size 3 enters every module of VGG16 once: the 31 features, avgpool and the classifier's 7.
        Assert.Contains(vgg.ModulesEntered, m => m == "features.7 [3, 128, 112, 112]");
        Console.WriteLine($"VGG16 verified in {watch.Elapsed.TotalSeconds:F1} s (child process, batch sizes 1 and 3)");
    }

    [Fact]
    public void EveryLayerKindVerifiesInProcess()
    {
        var report = ShapeVerification.VerifyInProcess(new EveryLayerKind());
        Assert.True(report.Ok, report.ToString());
        Assert.Contains(report.ModulesEntered, m => m == "up [3, 3, 4, 4]");
        Assert.Contains(report.ModulesEntered, m => m == "shuffle [3, 8, 16, 16]");
    }

    [Fact]
    public void AWrongLayerSizeIsNamedWithItsPathAndTheLibtorchMessage()
    {
        var report = ShapeVerification.Verify(() => new RuntimeSizedMlp());
        var problem = Assert.Single(report.Problems, p => p.Where.EndsWith("(batch 1)", StringComparison.Ordinal));
        Assert.Equal("module 'fc2 [1, 32]' (batch 1)", problem.Where);
        Assert.Contains("30", problem.Actual);
        Assert.Contains("32", problem.Actual);
        var thrown = Assert.Throws<ShapeVerificationException>(report.ThrowIfFailed);
        Assert.Contains("fc2", thrown.Message);
    }

    [Fact]
    public void WrongDeclarationsAreReportedAsDeclaredVersusActual()
    {
        var report = ShapeVerification.VerifyInProcess(new WrongDeclarations());
        Assert.Contains(new ShapeProblem("forward's return value (batch 1)", "[return: Shape] [5]", "per-sample [4]"), report.Problems);
        Assert.Contains(new ShapeProblem("module 'fc' (batch 3)", "[ExplainLayer] Shape [10]", "input per-sample [12]"), report.Problems);
    }

    [Fact]
    public void AModelWhoseBugAbortsTheProcessIsReportedAndTheTestHostSurvives()
    {
        var report = ShapeVerification.Verify(() => new AbortingAttention());
        var problem = Assert.Single(report.Problems);
        Assert.Equal("module 'key [1, 64, 16]'", problem.Where);
        Assert.StartsWith("libtorch aborted the process (exit code 134)", problem.Actual, StringComparison.Ordinal);
        Assert.Equal(2, torch.ones(2).sum().item<float>()); // this process is alive and TorchSharp still works
    }

    [Fact]
    public void AFactoryThatCapturesIsRefusedWithAClearMessage()
    {
        int hidden = 3;
        var e = Assert.Throws<ArgumentException>(() => ShapeVerification.Verify(() => new WrongDeclarations().Also(hidden)));
        Assert.Contains("captures variables", e.Message);
    }
}

internal static class ModelExtensions
{
    public static T Also<T>(this T model, int _) => model;
}
