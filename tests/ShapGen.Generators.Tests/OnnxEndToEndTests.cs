using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using ShapGen.Generators.Tests.Infrastructure;
using ShapGen.OnnxBuild;
using ShapGen.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>
/// A user program compiled against the real binary-MNIST ONNX model's signature (extracted by the build step's reader),
/// emitted, loaded and run: the typed explanations must equal the untyped OnnxModel/OnnxExplain calls' exactly, and a
/// model file that changed after the build must be refused with what changed.
/// </summary>
public class OnnxEndToEndTests
{
    private const string ModelFile = "binary-mnist-model.onnx";

    private const string Program = TestModels.Usings + """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        namespace E2E;

        [ExplainableOnnx("models/binary-mnist.onnx", Labels = new[] { "digit 0", "digit 1" })]
        public partial class BinaryMnist { }

        public static class Runner
        {
            public static Dictionary<string, double> Run(string path)
            {
                var report = new Dictionary<string, double>();
                using var scope = torch.NewDisposeScope();
                using var model = BinaryMnist.Load(path);
                var images = torch.rand(new long[] { 2, 1, 28, 28 }, generator: new torch.Generator(5)).mul(255);
                var background = torch.zeros(1, 1, 28, 28);
                // 16 features: 7×7 patches, so KernelSHAP enumerates or samples the same coalitions in both calls.
                var patch = Enumerable.Range(0, 784).Select(i => (i / 28 / 7) * 4 + (i % 28) / 7).ToArray();
                var options = new KernelExplainOptions { NSamples = 500, Seed = 3, FeatureGroups = new KernelFeatureGroups(16, patch) };

                using var typed = new BinaryMnist.KernelExplainer(model, new BinaryMnist.Batch(background));
                using var result = typed.Explain(new BinaryMnist.Batch(images), options);
                using var engine = new KernelExplainer(model.ToExplainableModel(), new[] { background });
                using var plain = engine.Explain(new[] { images }, options);
                report["kernel.diff0"] = result[BinaryMnist.Label.digit_0].InputTensor.sub(plain[0, 0]).abs().max().item<float>();
                report["kernel.diff1"] = result[BinaryMnist.Label.digit_1][BinaryMnist.Input.InputTensor].sub(plain[1, 0]).abs().max().item<float>();
                report["kernel.expected"] = Math.Abs(result.ExpectedValue(BinaryMnist.Label.digit_1) - plain.ExpectedValue(1));
                report["kernel.nonzero"] = result[BinaryMnist.Label.digit_1].InputTensor.abs().sum().item<float>();

                var image = images[0..1];
                var imageOptions = new KernelImageOptions { Kernel = { NSamples = 300, Seed = 0 }, Slic = { NSegments = 30, Sigma = 0 }, Background = 0 };
                using var typedImage = BinaryMnist.ExplainImage(model, new BinaryMnist.Batch(image), new[] { BinaryMnist.Label.digit_1, BinaryMnist.Label.digit_0 }, imageOptions);
                var dianna = new KernelImageOptions(imageOptions) { AxisLabels = new[] { "height", "width", "channels" } };
                using var plainImage = OnnxExplain.ExplainImage(path, image.reshape(28, 28, 1), new[] { 1, 0 }, dianna);
                report["image.labelsOk"] = typedImage.Labels.SequenceEqual(new[] { 1, 0 }) ? 1 : 0;
                report["image.segments"] = typedImage.SegmentCount == plainImage.SegmentCount ? 1 : 0;
                report["image.diff"] = Enumerable.Range(0, 2).Max(l => typedImage.ShapleyValues(l).Zip(plainImage.ShapleyValues(l)).Max(p => Math.Abs(p.First - p.Second)));
                report["image.nonzero"] = typedImage.ShapleyValues(0).Sum(Math.Abs);

                var hwc = new[] { "height", "width", "channels" };
                using var typedRise = BinaryMnist.ExplainImageRise(model, new BinaryMnist.Batch(image), new[] { BinaryMnist.Label.digit_1 }, new RiseOptions { NMasks = 100, Seed = 2 });
                using var plainRise = OnnxExplain.Rise(path, image.reshape(28, 28, 1), new[] { 1 }, new RiseOptions { NMasks = 100, Seed = 2 }, hwc);
                report["rise.diff"] = typedRise.Heatmaps.sub(plainRise.Heatmaps).abs().max().to(float64).item<double>();
                report["rise.nonzero"] = typedRise.Heatmaps.abs().sum().to(float64).item<double>();
                var slic = new SlicOptions { NSegments = 30, Sigma = 0 };
                using var typedLime = BinaryMnist.ExplainImageLime(model, new BinaryMnist.Batch(image), new[] { BinaryMnist.Label.digit_0 }, new LimeOptions { NumSamples = 100, Seed = 2 }, slic, hideColor: 0);
                using var plainLime = OnnxExplain.Lime(path, image.reshape(28, 28, 1), new[] { 0 }, new LimeOptions { NumSamples = 100, Seed = 2 }, slic, 0, hwc);
                report["lime.diff"] = typedLime.Heatmaps.sub(plainLime.Heatmaps).abs().max().to(float64).item<double>();
                report["lime.nonzero"] = typedLime.Heatmaps.abs().sum().to(float64).item<double>();

                try { new BinaryMnist.Batch(torch.zeros(2, 1, 28, images.shape[3] - 1)); report["batch.throws"] = 0; }
                catch (ArgumentException) { report["batch.throws"] = 1; }
                try { BinaryMnist.ExplainImage(model, new BinaryMnist.Batch(images), new[] { BinaryMnist.Label.digit_1 }); report["image.batchThrows"] = 0; }
                catch (ArgumentException e) when (e.Message.Contains("holds 2")) { report["image.batchThrows"] = 1; }
                return report;
            }

            public static string Changed(string path)
            {
                using var model = new OnnxModel(path);
                try { using var e = new BinaryMnist.KernelExplainer(model, new BinaryMnist.Batch(torch.zeros(new long[] { 1 }.Concat(BinaryMnist.Batch.SampleShapes[0]).ToArray()))); return ""; }
                catch (InvalidOperationException e) { return e.Message; }
            }
        }
        """;

    /// <summary>Compiles the program; <paramref name="analyzers"/> false leaves out the call-site shape check (for a signature the calls were not written for).</summary>
    private static Assembly Build(string signature, bool analyzers = true)
    {
        var run = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(Program), new[] { OnnxSignatures.FromText("models/binary-mnist.onnx", signature) });
        Assert.Empty(run.AllDiagnostics(analyzers));
        using var stream = new MemoryStream();
        var emitted = run.Output.Emit(stream);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        stream.Position = 0;
        return new AssemblyLoadContext("ShapGen.OnnxE2E", isCollectible: true).LoadFromStream(stream);
    }

    [SharedDataFact(ModelFile)]
    public void TypedExplanationsEqualTheUntypedOnes()
    {
        string path = SharedData.File(ModelFile);
        string signature = OnnxSignatureText.Extract(path, "models/binary-mnist.onnx");
        Assert.Contains("input\t1\t?,1,28,28\tinput", signature);
        var runner = Build(signature).GetType("E2E.Runner")!;
        var report = (Dictionary<string, double>)runner.GetMethod("Run")!.Invoke(null, new object[] { path })!;

        Assert.Equal(0, report["kernel.diff0"]);
        Assert.Equal(0, report["kernel.diff1"]);
        Assert.Equal(0, report["kernel.expected"]);
        Assert.True(report["kernel.nonzero"] > 0, "the attributions are all zero: the comparison would prove nothing");
        Assert.Equal(1, report["image.labelsOk"]);
        Assert.Equal(1, report["image.segments"]);
        Assert.Equal(0, report["image.diff"]);
        Assert.True(report["image.nonzero"] > 0, "the image attributions are all zero");
        Assert.Equal(0, report["rise.diff"]);
        Assert.True(report["rise.nonzero"] > 0, "the RISE heatmap is all zero");
        Assert.Equal(0, report["lime.diff"]);
        Assert.True(report["lime.nonzero"] > 0, "the LIME heatmap is all zero");
        Assert.Equal(1, report["batch.throws"]);
        Assert.Equal(1, report["image.batchThrows"]);
    }

    [SharedDataFact(ModelFile)]
    public void AModelThatChangedAfterTheBuildIsRefusedWithWhatChanged()
    {
        string path = SharedData.File(ModelFile);
        // As if the class had been generated from an RGB model with three outputs.
        string old = OnnxSignatures.Text("models/binary-mnist.onnx", "input\t1\t?,3,28,28\tinput", "output\t1\t?,3\toutput");
        var runner = Build(old.Replace("?,3\toutput", "?,2\toutput"), analyzers: false).GetType("E2E.Runner")!;
        string message = (string)runner.GetMethod("Changed")!.Invoke(null, new object[] { path })!;
        Assert.Equal("The loaded ONNX model does not have the signature of 'models/binary-mnist.onnx' that the typed API was generated from: " +
                     "input 'input' was [N, 3, 28, 28], is now [N, 1, 28, 28]. Rebuild the project to regenerate the typed API from the current file, or load the right file.",
                     message);
    }
}
