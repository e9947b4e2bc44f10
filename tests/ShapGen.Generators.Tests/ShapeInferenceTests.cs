using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using ShapGen.Generators.Model;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>Static shape inference through forward: hand-derived sizes, errors that name layer/expected/received, and silence where it cannot follow.</summary>
public class ShapeInferenceTests
{
    private const string U = TestModels.Usings + "namespace S;\n";

    private static ModelSpec Spec(string source)
    {
        var run = GeneratorHarness.Run(source);
        Assert.Empty(run.AllDiagnostics(withAnalyzers: false));
        var steps = run.Result.Results[0].TrackedSteps[ShapGenGenerator.TrackingNames.Models];
        return (ModelSpec)steps.Single().Outputs.Single().Value;
    }

    private static Diagnostic[] ShapGenDiagnostics(string source) =>
        GeneratorHarness.Run(source).AllDiagnostics().Where(d => d.Id.StartsWith("SHAPGEN", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void ConvStridePaddingPoolFlattenLinearGiveHandDerivedSizes()
    {
        // conv: (32 + 2·1 − 5) / 2 + 1 = 15; pool 2: 7; flatten: 8·7·7 = 392.
        var spec = Spec(U + """
            [Explainable, ExplainLayer("fc"), ExplainLayer("pool")]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(3, 8, 5, stride: 2, padding: 1);
                private readonly nn.Module<Tensor, Tensor> pool = nn.MaxPool2d(2);
                private readonly nn.Module<Tensor, Tensor> fc;
                public M() : base("M") { fc = nn.Linear(392, 10); RegisterComponents(); }
                public override Tensor forward([Shape(3, 32, 32)] Tensor x) => fc.call(pool.call(conv.call(x)).flatten(1));
            }
            """);
        Assert.Equal(new long[] { 10 }, spec.OutputShape!.ToArray());
        Assert.Equal(10, spec.OutputCount);
        Assert.Equal(new long[] { 392 }, spec.Layers.Single(l => l.Path == "fc").Shape!.ToArray());
        Assert.Equal(new long[] { 8, 15, 15 }, spec.Layers.Single(l => l.Path == "pool").Shape!.ToArray());
        Assert.True(spec.Layers.All(l => l.Shape is not null));
    }

    [Fact]
    public void CeilModeTupleKernelsNamedSequentialChildrenAndSamePadding()
    {
        // pool (3,2)/2 ceil on 7×7: H = ceil(4/2)+1 = 3, W = ceil(5/2)+1 = 4. Same padding keeps 26×26... after a 3×3 valid conv of 28.
        var spec = Spec(U + """
            [Explainable, ExplainLayer("body.act"), ExplainLayer("body.same"), ExplainLayer("pool")]
            public partial class M : nn.Module<Tensor, Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> body = nn.Sequential(
                    ("conv", nn.Conv2d(1, 4, 3)), ("act", nn.ReLU()), ("same", nn.Conv2d(4, 4, (3, 3), padding: Padding.Same)));
                private readonly nn.Module<Tensor, Tensor> pool = nn.MaxPool2d((3, 2), stride: (2, 2), ceil_mode: true);
                public M() : base("M") => RegisterComponents();
                public override Tensor forward([Shape(1, 28, 28)] Tensor a, [Shape(1, 7, 7)] Tensor b) =>
                    torch.cat(new[] { body.call(a).flatten(1), pool.call(b).reshape(b.shape[0], -1) }, 1);
            }
            """);
        Assert.Equal(new long[] { 4, 26, 26 }, spec.Layers.Single(l => l.Path == "body.act").Shape!.ToArray());
        Assert.Equal(new long[] { 4, 26, 26 }, spec.Layers.Single(l => l.Path == "body.same").Shape!.ToArray());
        Assert.Equal(new long[] { 1, 7, 7 }, spec.Layers.Single(l => l.Path == "pool").Shape!.ToArray());
        Assert.Equal(new long[] { 4 * 26 * 26 + 3 * 4 }, spec.OutputShape!.ToArray());
    }

    [Fact]
    public void Conv1dPool1dAdaptivePoolAndLayerNorm()
    {
        // conv1d: (50 + 2·2 − 5) / 1 + 1 = 50; maxpool1d 2: 25; adaptive (7, 7) on any H×W; LayerNorm(16) keeps [.., 16].
        var spec = Spec(U + """
            [Explainable, ExplainLayer("pool"), ExplainLayer("head")]
            public partial class M : nn.Module<Tensor, Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv = nn.Conv1d(3, 6, 5, padding: 2);
                private readonly nn.Module<Tensor, Tensor> pool = nn.MaxPool1d(2);
                private readonly nn.Module<Tensor, Tensor> adaptive = nn.AdaptiveAvgPool2d((7, 7));
                private readonly nn.Module<Tensor, Tensor> norm = nn.LayerNorm(16);
                private readonly nn.Module<Tensor, Tensor> head = nn.Linear(6 * 25 + 2 * 7 * 7 + 2 * 33 * 16, 3);
                public M() : base("M") => RegisterComponents();
                public override Tensor forward([Shape(3, 50)] Tensor signal, [Shape(2, 33, 16)] Tensor picture)
                {
                    var a = pool.call(conv.call(signal)).flatten(1);
                    var b = adaptive.call(picture).flatten(1);
                    var c = norm.call(picture).flatten(1);
                    return head.call(torch.cat(new[] { a, b, c }, 1));
                }
            }
            """);
        Assert.Equal(new long[] { 6, 50 }, spec.Layers.Single(l => l.Path == "pool").Shape!.ToArray());
        Assert.Equal(new long[] { 6 * 25 + 2 * 7 * 7 + 2 * 33 * 16 }, spec.Layers.Single(l => l.Path == "head").Shape!.ToArray());
        Assert.Equal(new long[] { 3 }, spec.OutputShape!.ToArray());
    }

    [Fact]
    public void LayerNormMismatchIsReported()
    {
        var diagnostics = ShapGenDiagnostics(U + """
            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> norm = nn.LayerNorm(16);
                public M() : base("M") => RegisterComponents();
                public override Tensor forward([Shape(4, 15)] Tensor x) => norm.call(x);
            }
            """);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("LayerNorm 'norm' expects a last dimension of 16, receives 15 (input shape [N, 4, 15])", diagnostic.GetMessage());
    }

    [Fact]
    public void UnknownLayerShapeFallsBackToTheDeclaredShape()
    {
        var spec = Spec(U + """
            [Explainable, ExplainLayer("inner", Shape = new[] { 5 })]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> inner;
                public M(int n) : base("M") { inner = nn.Linear(n, 4); RegisterComponents(); }
                private readonly System.Func<Tensor, Tensor> helper = t => t;
                public override Tensor forward([Shape(12)] Tensor x) => inner.call(helper(x));
            }
            """);
        var layer = spec.Layers.Single();
        Assert.Equal(new long[] { 5 }, layer.Shape!.ToArray());
        Assert.Null(spec.OutputShape);
    }

    [Theory]
    [InlineData("nn.Conv2d(3, 8, 3)", "x", "Conv2d 'layer' expects 3 input channels, receives 1 (input shape [N, 1, 28, 28])")]
    [InlineData("nn.BatchNorm2d(4)", "x", "BatchNorm2d 'layer' expects 4 features (channels), receives 1")]
    [InlineData("nn.MaxPool2d(30)", "x", "MaxPool2d 'layer' expects a spatial size of at least 30 in dimension 2, receives 28")]
    [InlineData("nn.Linear(785, 2)", "x.view(-1, 784)", "Linear 'layer' expects 785 input features, receives 784")]
    public void MismatchesNameTheLayerTheExpectedAndTheReceivedSize(string layer, string argument, string message)
    {
        var diagnostics = ShapGenDiagnostics(U + $$"""
            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> layer = {{layer}};
                public M() : base("M") => RegisterComponents();
                public override Tensor forward([Shape(1, 28, 28)] Tensor x)
                {
                    var y = x;
                    return layer.call({{argument}});
                }
            }
            """);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("SHAPGEN008", diagnostic.Id);
        Assert.Contains(message, diagnostic.GetMessage());
        Assert.Equal(13, diagnostic.Location.GetLineSpan().StartLinePosition.Line + 1); // the return line
    }

    [Fact]
    public void TheDesignExampleWithAWrongHiddenSizeIsReportedAtTheHiddenCall()
    {
        // flat: 1·28·28 = 784; image: conv 3×3 → 32·26·26 = 21632; cat → 22416.
        string wrong = TestModels.TwoInputMnist.Replace("nn.Linear(28 * 28 + 32 * 26 * 26, 128)", "nn.Linear(28 * 28 + 32 * 26 * 26 + 32, 128)");
        var diagnostic = Assert.Single(ShapGenDiagnostics(wrong));
        Assert.Equal("SHAPGEN008", diagnostic.Id);
        Assert.Equal("Linear 'hidden' expects 22448 input features, receives 22416 (input shape [N, 22416])", diagnostic.GetMessage());
        int line = diagnostic.Location.GetLineSpan().StartLinePosition.Line;
        Assert.Contains("hidden.call(", wrong.Split('\n')[line]);
    }

    [Fact]
    public void AShapeMismatchStillEmitsTheTypedApiSoItIsTheOnlyError()
    {
        string wrong = TestModels.TwoInputMnist.Replace("nn.Linear(28 * 28 + 32 * 26 * 26, 128)", "nn.Linear(28 * 28 + 32 * 26 * 25, 128)")
            + "\nstatic class App { static void Run(TwoInputMnist m, TwoInputMnist.Batch b) { using var e = new TwoInputMnist.GradientExplainer(m, b); } }";
        var diagnostics = GeneratorHarness.Run(wrong).AllDiagnostics();
        var single = Assert.Single(diagnostics);
        Assert.Equal("SHAPGEN008", single.Id);
    }

    [Fact]
    public void CatAndViewMismatchesAreReportedWhereTheyHappen()
    {
        var diagnostics = ShapGenDiagnostics(U + """
            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor, Tensor>
            {
                public M() : base("M") { }
                public override Tensor forward([Shape(2, 3)] Tensor a, [Shape(4, 3)] Tensor b)
                {
                    var joined = torch.cat(new[] { a, b }, 2);
                    var flat = a.view(a.shape[0], 7);
                    return joined;
                }
            }
            """);
        Assert.Equal(2, diagnostics.Length);
        Assert.Contains("cat expects equal sizes except in dimension 2", diagnostics[0].GetMessage());
        Assert.Contains("tensor 1 of shape [N, 4, 3]", diagnostics[0].GetMessage());
        Assert.Equal(11, diagnostics[0].Location.GetLineSpan().StartLinePosition.Line + 1);
        Assert.Contains("view expects a shape holding 6 elements per sample", diagnostics[1].GetMessage());
        Assert.Equal(12, diagnostics[1].Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    [Theory]
    [InlineData("for (int i = 0; i < 2; i++) x = x.flatten(1); return fc.call(x);")]
    [InlineData("if (x.shape[0] > 1) x = x.view(-1, 3); return fc.call(x.flatten(1));")]
    [InlineData("var y = Helper(x); return fc.call(y);")]
    [InlineData("var y = x.view(-1, 12); var z = y + torch.ones(12); return fc.call(z);")]
    [InlineData("var y = x.view(-1, 3); return fc.call(y.view(-1, 12));")]
    [InlineData("var parts = new[] { x.flatten(1) }; return fc.call(torch.cat(parts, 1));")]
    [InlineData("Tensor y; y = x.flatten(1); y = y * 2; return fc.call(y);")]
    [InlineData("var y = x.flatten(1); Mutate(ref y); return fc.call(y);")]
    [InlineData("var y = x.transpose(1, 2).flatten(1); return fc.call(y);")]
    [InlineData("return fc.call(x.flatten(1).unsqueeze(1).squeeze(1));")]
    public void CodeItCannotFollowOrThatIsCorrectGetsNoDiagnostic(string body)
    {
        var diagnostics = ShapGenDiagnostics(U + $$"""
            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(12, 2);
                public M() : base("M") => RegisterComponents();
                public override Tensor forward([Shape(4, 3)] Tensor x) { {{body}} }
                private static Tensor Helper(Tensor t) => t.reshape(t.shape[0], 12);
                private static void Mutate(ref Tensor t) => t = t.view(-1, 12);
            }
            """);
        Assert.Empty(diagnostics);
    }

    [Theory]
    [InlineData("torch.ones(new long[] { 3, 12 })", false)]
    [InlineData("torch.rand(5, 12)", false)]
    [InlineData("torch.randn(3, 13)", true)]
    [InlineData("torch.zeros(3, 12, 1)", true)]
    [InlineData("torch.zeros(n, 12)", false)]
    [InlineData("torch.zeros(3, n)", false)]
    [InlineData("Make()", false)]
    public void CallSiteShapesAreCheckedOnlyWhenConstant(string argument, bool reported)
    {
        var diagnostics = ShapGenDiagnostics(U + $$"""
            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(12, 2);
                public M() : base("M") => RegisterComponents();
                public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);
            }
            public static class App
            {
                static Tensor Make() => torch.zeros(3, 13);
                public static M.Batch Build(int n) => new M.Batch({{argument}});
            }
            """);
        Assert.Equal(reported ? 1 : 0, diagnostics.Count(d => d.Id == "SHAPGEN010"));
        Assert.Equal(diagnostics.Length, diagnostics.Count(d => d.Id == "SHAPGEN010"));
    }
}
