using System;
using System.Linq;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>The generated DeepLIFT forward routes every supported functional nonlinearity through DeepLiftOps.</summary>
public class DeepLiftRewriteTests
{
    private static (string? DeepLift, string[] Warnings) Rewrite(string body)
    {
        var run = GeneratorHarness.Run(TestModels.Usings + $$"""
            namespace R;
            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                public M() : base("M") { }
                public override Tensor forward([Shape(2, 8, 8)] Tensor x) { {{body}} }
            }
            """);
        Assert.Empty(run.GeneratedCodeProblems);
        Assert.DoesNotContain(run.AllDiagnostics(withAnalyzers: false), d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        var deep = run.Sources.Where(s => s.Key.EndsWith(".DeepLift.g.cs", StringComparison.Ordinal)).Select(s => s.Value).SingleOrDefault();
        return (deep, run.GeneratorDiagnostics.Where(d => d.Id == "SHAPGEN011").Select(d => d.GetMessage()).ToArray());
    }

    [Theory]
    [InlineData("return nn.functional.relu(x);", "global::ShapGen.DeepLiftOps.Relu(x)")]
    [InlineData("return nn.functional.relu(x, inplace: false);", "global::ShapGen.DeepLiftOps.Relu(x)")]
    [InlineData("return x.relu();", "global::ShapGen.DeepLiftOps.Relu(x)")]
    [InlineData("return torch.sigmoid(x);", "global::ShapGen.DeepLiftOps.Sigmoid(x)")]
    [InlineData("return x.tanh();", "global::ShapGen.DeepLiftOps.Tanh(x)")]
    [InlineData("return nn.functional.elu(x, 0.5);", "global::ShapGen.DeepLiftOps.Elu(x, alpha: 0.5)")]
    [InlineData("return x.leaky_relu(0.2);", "global::ShapGen.DeepLiftOps.LeakyRelu(x, negativeSlope: 0.2)")]
    [InlineData("return nn.functional.softplus(x, beta: 2);", "global::ShapGen.DeepLiftOps.Softplus(x, beta: 2)")]
    [InlineData("return x.flatten(1).softmax(1);", "global::ShapGen.DeepLiftOps.Softmax(x.flatten(1), dim: 1)")]
    [InlineData("return nn.functional.log_softmax(x.flatten(1), 1);", "global::ShapGen.DeepLiftOps.LogSoftmax(x.flatten(1), dim: 1)")]
    [InlineData("return nn.functional.max_pool2d(x, 2);", "global::ShapGen.DeepLiftOps.MaxPool2d(x, kernelSize: 2)")]
    [InlineData("return nn.functional.relu(nn.functional.relu(x) + 1);", "global::ShapGen.DeepLiftOps.Relu(global::ShapGen.DeepLiftOps.Relu(x) + 1)")]
    [InlineData("var y = x * 2; return y.relu().sigmoid();", "global::ShapGen.DeepLiftOps.Sigmoid(global::ShapGen.DeepLiftOps.Relu(y))")]
    public void SupportedCallsAreRewritten(string body, string expected)
    {
        var (deep, warnings) = Rewrite(body);
        Assert.Empty(warnings);
        Assert.NotNull(deep);
        Assert.Contains(expected, deep);
    }

    [Theory]
    [InlineData("return nn.functional.gelu(x);", "gelu")]
    [InlineData("return x.relu_();", "in-place")]
    [InlineData("return nn.functional.relu(x, inplace: true);", "in-place")]
    [InlineData("return nn.functional.softmax(x, 1, ScalarType.Float64);", "dtype")]
    [InlineData("return nn.functional.max_pool2d(x, new long[] { 2, 2 });", "single kernel size")]
    public void UnsupportedCallsWarnAtTheirLine(string body, string reason)
    {
        var (_, warnings) = Rewrite(body);
        var warning = Assert.Single(warnings);
        Assert.Contains(reason, warning);
    }

    [Fact]
    public void AForwardWithoutFunctionalNonlinearitiesGetsNoDeepLiftCopy()
    {
        var (deep, warnings) = Rewrite("return x.flatten(1) * 2;");
        Assert.Null(deep);
        Assert.Empty(warnings);
    }
}
