using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;
using static ShapGen.Generators.Tests.OnnxSignatures;

namespace ShapGen.Generators.Tests;

/// <summary>
/// [ExplainableOnnx]: the generated source (snapshot, compiles clean), shape checks at call sites, labels against the
/// output size, the incremental pipeline, and hostile signature files and declarations.
/// </summary>
public class OnnxGeneratorTests
{
    private const string U = TestModels.Usings + "namespace Demo;\n";

    private const string BinaryMnist = U + """
        [ExplainableOnnx("models/mnist.onnx", Labels = new[] { "digit 0", "digit 1" })]
        public partial class BinaryMnist { }
        """;

    private static GeneratorRun Run(string source, params AdditionalText[] files) =>
        GeneratorHarness.Run(GeneratorHarness.CreateCompilation(source), files);

    [Fact]
    public void BinaryMnistSnapshotCompilesWithoutWarnings()
    {
        var run = Run(BinaryMnist, MnistFile);
        Assert.Empty(run.AllDiagnostics());
        Snapshot.Verify(run.Sources["Demo.BinaryMnist.ShapGen.Onnx.g.cs"], "Demo.BinaryMnist.ShapGen.Onnx");
    }

    [Fact]
    public void AUserEnumAndNoLabelsBothCompile()
    {
        var run = Run(U + """
            public enum Digit { Zero, One }
            [ExplainableOnnx("models/mnist.onnx", Labels = typeof(Digit))] public partial class Typed { }
            [ExplainableOnnx("./models/../models/mnist.onnx")] public partial class Plain { }
            public static class Use
            {
                public static ShapGen.ImageExplanation A(ShapGen.OnnxModel m, Typed.Batch b) => Typed.ExplainImage(m, b, new[] { Digit.One });
                public static ShapGen.ImageExplanation B(ShapGen.OnnxModel m, Plain.Batch b) => Plain.ExplainImage(m, b, new[] { 1 });
            }
            """, MnistFile);
        Assert.Empty(run.AllDiagnostics());
    }

    [Fact]
    public void OddOnnxNamesBecomeValidDistinctParameterAndPropertyNames()
    {
        var run = Run(U + "[ExplainableOnnx(\"m.onnx\")] public partial class Odd { }\n",
            File("m.onnx", "input\t1\t?,2\tclass", "input\t1\t?,2\tinput.1", "input\t1\t?,2\tinput_1", "input\t1\t?,3\t0", "output\t1\t?,1\ty"));
        Assert.Empty(run.AllDiagnostics());
        string source = run.Sources["Demo.Odd.ShapGen.Onnx.g.cs"];
        Assert.Contains("public Batch([global::ShapGen.Shape(2)] global::TorchSharp.torch.Tensor class_, [global::ShapGen.Shape(2)] global::TorchSharp.torch.Tensor input_1, " +
                        "[global::ShapGen.Shape(2)] global::TorchSharp.torch.Tensor input_12, [global::ShapGen.Shape(3)] global::TorchSharp.torch.Tensor _0)", source);
        Assert.Contains("inputNames: new[] { \"class\", \"input.1\", \"input_1\", \"0\" }", source);
    }

    [Fact]
    public void AWrongImageSizeAtTheCallSiteIsACompileError()
    {
        string program = BinaryMnist + """

            public static class Use
            {
                public static void Run(ShapGen.OnnxModel model)
                {
                    var good = new BinaryMnist.Batch(torch.zeros(4, 1, 28, 28));
                    var image = torch.zeros(1, 1, 28, 27);
                    using var explanation = BinaryMnist.ExplainImage(model, new BinaryMnist.Batch(/*<*/image/*>*/), new[] { BinaryMnist.Label.digit_1 });
                }
            }
            """;
        var run = Run(program, MnistFile);
        var error = Assert.Single(run.AllDiagnostics());
        Assert.Equal("SHAPGEN010", error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal(DiagnosticTests.ExpectedSpan(program), error.Location.SourceSpan);
        Assert.Equal("Argument 'input' has per-sample shape [1, 28, 27] (full shape [1, 1, 28, 27]), but the model declares [Shape] [1, 28, 28]",
                     error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void LabelsMustMatchTheOutputSize()
    {
        var run = Run(U + "[ExplainableOnnx(\"models/mnist.onnx\", Labels = new[] { \"a\", \"b\", \"c\" })] public partial class Net { }\n", MnistFile);
        var error = Assert.Single(run.AllDiagnostics());
        Assert.Equal("SHAPGEN007", error.Id);
        Assert.Equal("'Net' declares 3 label(s) but its output has 2 value(s) per sample", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void DynamicDimensionsWarnAndStillGenerateAnApiThatAcceptsAnySize()
    {
        var run = Run(U + """
            [ExplainableOnnx("any.onnx")] public partial class AnySize { }
            public static class Use
            {
                public static AnySize.Batch Make() => new AnySize.Batch(torch.zeros(2, 3, 17, 9));
            }
            """, File("any.onnx", "input\t1\t?,3,?,?\timage", "output\t1\t?,10\tscores"));
        var warning = Assert.Single(run.AllDiagnostics());
        Assert.Equal("SHAPGEN023", warning.Id);
        Assert.Contains("sampleShapes: new[] { new long[] { 3, -1, -1 } }", run.Sources["Demo.AnySize.ShapGen.Onnx.g.cs"]);
        Assert.DoesNotContain("ExplainImage", run.Sources["Demo.AnySize.ShapGen.Onnx.g.cs"]);
    }

    [Fact]
    public void AnUnrelatedEditRegeneratesNothing()
    {
        var compilation = GeneratorHarness.CreateCompilation(BinaryMnist, U + "public static class Other { public static int X = 1; }");
        var driver = GeneratorHarness.CreateDriver(new[] { MnistFile }).RunGenerators(compilation);
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Last(),
            CSharpSyntaxTree.ParseText(U + "public static class Other { public static int X = 2; }", GeneratorHarness.ParseOptions, path: compilation.SyntaxTrees.Last().FilePath));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        foreach (var name in OnnxSteps)
            foreach (var step in result.TrackedSteps[name])
                foreach (var (_, reason) in step.Outputs)
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {reason}");
        Assert.All(OnnxSourceOutputs(result), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void ReplacingOneModelFileRegeneratesOnlyItsClass()
    {
        var compilation = GeneratorHarness.CreateCompilation(BinaryMnist + "\n[ExplainableOnnx(\"models/other.onnx\")] public partial class Other { }\n");
        var other = File("models/other.onnx", "input\t1\t?,4\tx", "output\t1\t?,3\ty");
        var driver = GeneratorHarness.CreateDriver(new[] { MnistFile, other }).RunGenerators(compilation);
        var replaced = File("models/other.onnx", "input\t1\t?,5\tx", "output\t1\t?,3\ty");
        var result = driver.ReplaceAdditionalText(other, replaced).RunGenerators(compilation).GetRunResult().Results.Single();
        var outputs = OnnxSourceOutputs(result).ToList();
        Assert.Equal(2, outputs.Count);
        Assert.Contains(outputs, o => o.Class == "Other" && o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(outputs, o => o.Class == "BinaryMnist" && o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        Assert.Contains("new long[] { 5 }", result.GeneratedSources.Single(s => s.HintName == "Demo.Other.ShapGen.Onnx.g.cs").SourceText.ToString());
    }

    private static readonly string[] OnnxSteps =
    {
        ShapGenGenerator.OnnxTrackingNames.Parse, ShapGenGenerator.OnnxTrackingNames.Signatures, ShapGenGenerator.OnnxTrackingNames.Match,
        ShapGenGenerator.OnnxTrackingNames.Models,
    };

    private static IEnumerable<(IncrementalStepRunReason Reason, string Class)> OnnxSourceOutputs(GeneratorRunResult result) =>
        from step in result.TrackedOutputSteps.SelectMany(kv => kv.Value)
        from input in step.Inputs
        where input.Source.Name == ShapGenGenerator.OnnxTrackingNames.Models
        from output in step.Outputs
        select (output.Reason, ((dynamic)input.Source.Outputs[input.OutputIndex].Value).Model.ClassName as string ?? "");

    public static TheoryData<string, string> HostileSignatures() => new()
    {
        { "empty", "" },
        { "header only", Header },
        { "wrong version", "shapgen-onnx-signature\t2\npath\tmodels/mnist.onnx\n" },
        { "no fields", Text("models/mnist.onnx", "input") },
        { "bad element type", Text("models/mnist.onnx", "input\tfloat\t?,2\tx", "output\t1\t?,2\ty") },
        { "bad dims", Text("models/mnist.onnx", "input\t1\t?,-2,x\tx", "output\t1\t?,2\ty") },
        { "dims overflow", Text("models/mnist.onnx", "input\t1\t?,99999999999999999999\tx", "output\t1\t?,2\ty") },
        { "huge product", Text("models/mnist.onnx", "input\t1\t?,2\tx", "output\t1\t?,4294967296,4294967296\ty") },
        { "empty name", Text("models/mnist.onnx", "input\t1\t?,2\t", "output\t1\t?,2\ty") },
        { "no outputs", Text("models/mnist.onnx", "input\t1\t?,2\tx") },
        { "no inputs", Text("models/mnist.onnx", "output\t1\t?,2\ty") },
        { "scalar input", Text("models/mnist.onnx", "input\t1\t-\tx", "output\t1\t?,2\ty") },
        { "shapeless output", Text("models/mnist.onnx", "input\t1\t?,2\tx", "output\t1\t*\ty") },
        { "error without message", Text("models/mnist.onnx", "error\tinvalid") },
        { "unknown error kind", Text("models/mnist.onnx", "error\tbroken\twhy") },
        { "CRLF and tabs in name", Text("models/mnist.onnx", "input\t1\t?,2\ta\tb", "output\t1\t?,2\ty").Replace("\n", "\r\n") },
        { "binary noise", new string(Enumerable.Range(0, 300).Select(i => (char)((i * 7919) % 65536)).ToArray()) },
    };

    [Theory]
    [MemberData(nameof(HostileSignatures))]
    public void HostileSignatureFilesNeverBreakTheGenerator(string what, string text)
    {
        var run = Run(U + "[ExplainableOnnx(\"models/mnist.onnx\", Labels = new[] { \"a\", \"b\" })] public partial class Net { }\n",
            FromText("models/mnist.onnx", text));
        Assert.Null(run.Result.Results.Single().Exception);
        var documented = new HashSet<string> { "SHAPGEN007", "SHAPGEN013", "SHAPGEN020", "SHAPGEN021", "SHAPGEN022", "SHAPGEN023" };
        Assert.All(run.GeneratorDiagnostics, d => Assert.True(documented.Contains(d.Id), what + ": " + d));
        Assert.Empty(run.GeneratedCodeProblems);
    }

    public static TheoryData<string, string> HostileDeclarations() => new()
    {
        { "no argument", "[ExplainableOnnx] public partial class Net { }" },
        { "null path", "[ExplainableOnnx(null)] public partial class Net { }" },
        { "empty path", "[ExplainableOnnx(\"\")] public partial class Net { }" },
        { "number path", "[ExplainableOnnx(3)] public partial class Net { }" },
        { "not partial", "[ExplainableOnnx(\"models/mnist.onnx\")] public class Net { }" },
        { "struct", "[ExplainableOnnx(\"models/mnist.onnx\")] public partial struct Net { }" },
        { "static", "[ExplainableOnnx(\"models/mnist.onnx\")] public static partial class Net { }" },
        { "generic", "[ExplainableOnnx(\"models/mnist.onnx\")] public partial class Net<T> { }" },
        { "nested in non-partial", "public class Outer { [ExplainableOnnx(\"models/mnist.onnx\")] public partial class Net { } }" },
        { "nested in partial", "public partial class Outer { [ExplainableOnnx(\"models/mnist.onnx\")] public partial class Net { } }" },
        { "two partial declarations", "[ExplainableOnnx(\"models/mnist.onnx\")] public partial class Net { } public partial class Net { }" },
        { "labels not strings", "[ExplainableOnnx(\"models/mnist.onnx\", Labels = 3)] public partial class Net { }" },
        { "labels twice", "public enum E { A, B } [ExplainableOnnx(\"models/mnist.onnx\", Labels = new[] { \"a\", \"b\" }, LabelsEnum = typeof(E))] public partial class Net { }" },
        { "output null", "[ExplainableOnnx(\"models/mnist.onnx\", Output = null)] public partial class Net { }" },
        { "also a TorchSharp model", "[Explainable, ExplainableOnnx(\"models/mnist.onnx\")] public partial class Net : nn.Module<Tensor, Tensor> { public Net() : base(\"n\") { } public override Tensor forward([Shape(1, 28, 28)] Tensor x) => x; }" },
        { "half written", "[ExplainableOnnx(\"models/mnist.onnx\"" },
        { "member named Batch", "[ExplainableOnnx(\"models/mnist.onnx\")] public partial class Net { public int Load; }" },
        { "absolute path", "[ExplainableOnnx(\"/abs/models/mnist.onnx\")] public partial class Net { }" },
    };

    [Theory]
    [MemberData(nameof(HostileDeclarations))]
    public void HostileDeclarationsNeverBreakTheGenerator(string what, string declaration)
    {
        var run = Run(U + declaration + "\n", MnistFile);
        Assert.Null(run.Result.Results.Single().Exception);
        Assert.All(run.GeneratorDiagnostics, d => Assert.True(d.Id.StartsWith("SHAPGEN", StringComparison.Ordinal) && d.Id != "SHAPGEN999", what + ": " + d));
    }
}
