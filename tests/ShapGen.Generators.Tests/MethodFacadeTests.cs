using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using ShapGen.Generators.Model;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>
/// The typed facades of the gradient, DeepLIFT and perturbation methods: which are emitted for which
/// <c>Methods</c>, and a compiled user program whose typed integrated gradients and Grad-CAM give the untyped
/// engines' values (and the hand-derived Grad-CAM map and IG's completeness).
/// </summary>
public class MethodFacadeTests
{
    private const string ConvModel = """
        [Explainable(Labels = new[] { "a", "b" })]
        [ExplainLayer(nameof(conv))]
        public sealed partial class TinyConv : nn.Module<Tensor, Tensor>
        {
            public readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(1, 3, 3, padding: 1);
            public readonly nn.Module<Tensor, Tensor> fc = nn.Linear(48, 2);
            public TinyConv() : base(nameof(TinyConv)) => RegisterComponents();

            [return: Shape(2)]
            public override Tensor forward([Shape(1, 4, 4)] Tensor image) => fc.call(torch.tanh(conv.call(image)).flatten(1));
        }
        """;

    private const string Program = TestModels.Usings + """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        namespace E2E;

        """ + ConvModel + """

        public static class Runner
        {
            public static Dictionary<string, double> Run()
            {
                var report = new Dictionary<string, double>();
                // float64: libtorch 2.10's float32 CPU convolution backward gives input gradients off by up to ~0.2 on
                // this tiny net here (against float64 and finite differences), which would hide what is tested.
                torch.manual_seed(3);
                using var scope = torch.NewDisposeScope();
                var model = new TinyConv();
                model.to(torch.float64);
                model.eval();
                var x = torch.randn(3, 1, 4, 4, dtype: torch.float64);
                var b = torch.randn(1, 1, 4, 4, dtype: torch.float64);
                var labels = new[] { "a", "b" };
                var untyped = ExplainableModel.Create(model);
                var options = new IntegratedGradientsOptions { NSteps = 64 };

                using (var ig = new TinyConv.IntegratedGradients(model))
                {
                    using var typed = ig.Explain(new TinyConv.Batch(x), new TinyConv.Batch(b), options);
                    using var plain = new IntegratedGradients(untyped, labels).Explain(new[] { x }, new[] { b }, options);
                    report["ig.typedVsUntyped"] = Math.Max((typed[TinyConv.Label.a].Image - plain[0, 0]).abs().max().ToDouble(),
                                                           (typed[TinyConv.Label.b][TinyConv.Input.Image] - plain[1, 0]).abs().max().ToDouble());
                    var gap = model.call(x).select(1, 1) - model.call(b)[0, 1];
                    report["ig.completeness"] = (typed[TinyConv.Label.b].Image.sum(new long[] { 1, 2, 3 }) - gap).abs().max().ToDouble();
                    using var zeros = ig.Explain(new TinyConv.Batch(x), new TinyConv.Batch(torch.zeros(1, 1, 4, 4, dtype: torch.float64)), options);
                    using var omitted = ig.Explain(new TinyConv.Batch(x), options);
                    report["ig.omittedIsZeros"] = (zeros[TinyConv.Label.a].Image - omitted[TinyConv.Label.a].Image).abs().max().ToDouble();
                }

                var camOptions = new GradCamOptions { ReluAttributions = true };
                Tensor typedMap;
                using (var cam = new TinyConv.ConvGradCam(model))
                using (var typed = cam.Explain(new TinyConv.Batch(x), camOptions))
                {
                    typedMap = typed[TinyConv.Label.a].clone();
                    report["cam.shapeOk"] = typed[TinyConv.Label.a].shape.SequenceEqual(new long[] { 3, 1, 4, 4 }) ? 1 : 0;
                }
                using (var engine = new GradCam(untyped, "conv", labels))
                using (var plain = engine.Explain(new[] { x }, camOptions))
                    report["cam.typedVsUntyped"] = (typedMap - plain[0, 0]).abs().max().ToDouble();

                // By hand: A = conv(x); ∂f_a/∂A = W_a ⊙ (1 − tanh²A); channel weights = spatial mean; map = ReLU(Σ_c w_c A_c).
                using (torch.no_grad())
                {
                    var a = model.conv.call(x);
                    var wa = model.fc.parameters().First()[0].reshape(1, 3, 4, 4);
                    var g = wa * (1 - torch.tanh(a).pow(2));
                    var weights = g.mean(new long[] { 2, 3 }, keepdim: true);
                    var expected = torch.nn.functional.relu((weights * a).sum(1, keepdim: true));
                    report["cam.handError"] = (typedMap - expected).abs().max().ToDouble();
                }
                return report;
            }
        }
        """;

    [Fact]
    public void TypedIntegratedGradientsAndGradCamGiveTheUntypedEnginesValues()
    {
        var run = GeneratorHarness.Run(Program);
        Assert.Empty(run.AllDiagnostics(withAnalyzers: false));

        using var stream = new MemoryStream();
        var emitted = run.Output.Emit(stream);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        stream.Position = 0;
        var assembly = new AssemblyLoadContext("ShapGen.E2E.Methods").LoadFromStream(stream);
        var report = (Dictionary<string, double>)assembly.GetType("E2E.Runner")!.GetMethod("Run", BindingFlags.Public | BindingFlags.Static)!.Invoke(null, null)!;

        // The facade adds nothing to the engines' arithmetic: equal bits; the hand-derived checks hold to rounding.
        string all = string.Join(", ", report.Select(p => $"{p.Key} = {p.Value:G3}"));
        Assert.True(report["ig.typedVsUntyped"] == 0 && report["ig.omittedIsZeros"] == 0 && report["cam.typedVsUntyped"] == 0, all);
        Assert.True(report["ig.completeness"] <= 1e-9 && report["cam.handError"] <= 1e-12 && report["cam.shapeOk"] == 1, all);
    }

    [Fact]
    public void TheGeneratorsMethodBitsAreTheRuntimeEnumsValues()
    {
        var bits = typeof(MethodSet).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).ToDictionary(f => f.Name, f => (int)f.GetValue(null)!);
        var runtime = Enum.GetValues<ExplainMethods>().Where(v => v is not ExplainMethods.None and not ExplainMethods.All)
            .ToDictionary(v => v.ToString(), v => (int)v);
        Assert.Equal(runtime.OrderBy(p => p.Key), bits.OrderBy(p => p.Key));
    }

    [Fact]
    public void MethodsNarrowsTheFacadesToThoseNamed()
    {
        var run = GeneratorHarness.Run(TestModels.Usings + "namespace N;\n" + ConvModel.Replace(
            "[Explainable(Labels = new[] { \"a\", \"b\" })]",
            "[Explainable(Labels = new[] { \"a\", \"b\" }, Methods = ExplainMethods.IntegratedGradients | ExplainMethods.GradCam)]"));
        Assert.Empty(run.AllDiagnostics());
        string source = run.Sources["N.TinyConv.ShapGen.g.cs"];
        Assert.Equal(new[] { "ConvGradCam", "IntegratedGradients" }, Facades(source));
    }

    [Fact]
    public void ByDefaultEveryInputMethodAndTheLayerMethodsThatApplyAreEmitted()
    {
        var run = GeneratorHarness.Run(TestModels.Usings + "namespace N;\n" + ConvModel + """

            [Explainable]
            [ExplainLayer(nameof(fc))]
            public sealed partial class Dense : nn.Module<Tensor, Tensor>
            {
                public readonly nn.Module<Tensor, Tensor> fc = nn.Linear(6, 3);
                public Dense() : base(nameof(Dense)) => RegisterComponents();
                public override Tensor forward([Shape(6)] Tensor x) => fc.call(x);
            }
            """);
        Assert.Empty(run.AllDiagnostics());
        string[] inputMethods =
        {
            "DeepExplainer", "DeepLift", "FeatureAblation", "GradientExplainer", "InputXGradient", "IntegratedGradients",
            "KernelExplainer", "Lime", "Occlusion", "Partition", "Rise", "Saliency", "ShapleyValueSampling",
        };
        Assert.Equal(inputMethods.Concat(new[] { "ConvConductance", "ConvExplainer", "ConvGradCam", "ConvIntegratedGradients" }).OrderBy(n => n, StringComparer.Ordinal),
                     Facades(run.Sources["N.TinyConv.ShapGen.g.cs"]));
        // fc's output is [3], not [C, H, W]: no Grad-CAM for it, and no warning since it was not asked for by name.
        Assert.Equal(inputMethods.Concat(new[] { "FcConductance", "FcExplainer", "FcIntegratedGradients" }).OrderBy(n => n, StringComparer.Ordinal),
                     Facades(run.Sources["N.Dense.ShapGen.g.cs"]));
    }

    [Fact]
    public void GradCamNamedOnTheClassIsReportedForALayerItCannotApplyTo()
    {
        var run = GeneratorHarness.Run(TestModels.Usings + """
            namespace N;

            [Explainable(Methods = ExplainMethods.GradCam)]
            [ExplainLayer(nameof(fc))]
            public sealed partial class Dense : nn.Module<Tensor, Tensor>
            {
                public readonly nn.Module<Tensor, Tensor> fc = nn.Linear(6, 3);
                public Dense() : base(nameof(Dense)) => RegisterComponents();
                public override Tensor forward([Shape(6)] Tensor x) => fc.call(x);
            }
            """);
        var warning = Assert.Single(run.AllDiagnostics(), d => d.Id.StartsWith("SHAPGEN", StringComparison.Ordinal));
        Assert.Equal("SHAPGEN017", warning.Id);
        Assert.Contains("layer 'fc'", warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(Facades(run.Sources["N.Dense.ShapGen.g.cs"]));
    }

    /// <summary>The names of the generated explainer classes, sorted.</summary>
    private static IEnumerable<string> Facades(string source) =>
        System.Text.RegularExpressions.Regex.Matches(source, @"public sealed class (\w+) : global::ShapGen\.(?:Baseline)?ModelExplainer<")
            .Select(m => m.Groups[1].Value).OrderBy(n => n, StringComparer.Ordinal).ToList();
}
