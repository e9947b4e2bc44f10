using System;
using System.IO;
using ShapGen.Tests.Infrastructure;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Onnx;

/// <summary>The runtime half of typed ONNX models: the signature check against a loaded model, and dynamic dimensions in a generated batch.</summary>
public class OnnxSignatureTests
{
    private const string ModelFile = "binary-mnist-model.onnx";

    private static OnnxSignature Mnist(long[]? input = null, string output = "output", long[]? outputShape = null, string inputName = "input") =>
        new("models/mnist.onnx", new[] { inputName }, new[] { input ?? new long[] { -1, 1, 28, 28 } }, output, outputShape ?? new long[] { -1, 2 });

    [SharedDataFact(ModelFile)]
    public void TheRealModelHasItsOwnSignature()
    {
        using var model = new OnnxModel(SharedData.File(ModelFile));
        Assert.Empty(Mnist().Differences(model));
        Assert.Same(model, Mnist().Check(model));
    }

    [SharedDataFact(ModelFile)]
    public void EachDifferenceIsNamed()
    {
        using var model = new OnnxModel(SharedData.File(ModelFile));
        Assert.Equal(new[] { "input 'input' was [N, 3, 32, 32], is now [N, 1, 28, 28]" },
                     Mnist(input: new long[] { -1, 3, 32, 32 }).Differences(model));
        Assert.Equal(new[] { "inputs were ('image'), are now ('input')" }, Mnist(inputName: "image").Differences(model));
        Assert.Equal(new[] { "output 'output' was [N, 10], is now [N, 2]" }, Mnist(outputShape: new long[] { -1, 10 }).Differences(model));
        Assert.Equal(new[] { "the explained output was 'logits', is now 'output' (load the model with outputName: \"logits\")" },
                     Mnist(output: "logits").Differences(model));
        Assert.Equal(new[] { "input 'input' was [1, 1, 28, 28], is now [N, 1, 28, 28]" }, Mnist(input: new long[] { 1, 1, 28, 28 }).Differences(model));
        var error = Assert.Throws<InvalidOperationException>(() => Mnist(outputShape: new long[] { -1, 10 }).Check(model));
        Assert.Contains("'models/mnist.onnx'", error.Message);
        Assert.Contains("Rebuild the project", error.Message);
    }

    [SharedDataFact(ModelFile)]
    public void LoadTakesTheSignaturesOutputAndDisposesAModelThatDiffers()
    {
        using (var model = Mnist().Load(SharedData.File(ModelFile)))
            Assert.Equal("output", model.OutputName);
        Assert.Throws<InvalidOperationException>(() => Mnist(input: new long[] { -1, 3, 28, 28 }).Load(SharedData.File(ModelFile)));
        Assert.Throws<FileNotFoundException>(() => Mnist().Load(Path.Combine(SharedData.Dir, "no-such-model.onnx")));
    }

    [Fact]
    public void ASignatureNeedsOneShapePerInput() =>
        Assert.Throws<ArgumentException>(() => new OnnxSignature("m.onnx", new[] { "a", "b" }, new[] { new long[] { -1, 2 } }, "y", new long[] { -1, 1 }));

    private sealed class DynamicBatch(Tensor image) : InputBatch(Info, image)
    {
        public static readonly ModelInfo Info = new(new[] { "image" }, new[] { new long[] { 3, -1, -1 } });
    }

    [Fact]
    public void ADynamicDimensionInAGeneratedBatchAcceptsAnySizeButNotAnotherRank()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(2, new DynamicBatch(zeros(2, 3, 17, 9)).Count);
        Assert.Equal(1, new DynamicBatch(zeros(1, 3, 5, 40)).Count);
        var wrongChannels = Assert.Throws<ArgumentException>(() => new DynamicBatch(zeros(2, 4, 17, 9)));
        Assert.Contains("expected [3, -1, -1]", wrongChannels.Message);
        Assert.Throws<ArgumentException>(() => new DynamicBatch(zeros(2, 3, 17)));
    }
}
