using System;
using System.IO;
using System.Linq;
using ShapGen.OnnxBuild;
using ShapGen.Tests.Infrastructure;
using Xunit;
using static ShapGen.Tests.Onnx.OnnxProtoBuilder;

namespace ShapGen.Tests.Onnx;

/// <summary>
/// The build step's ONNX reader (src/ShapGen.Onnx/build/OnnxSignature.cs): the real binary-MNIST model, hand-built
/// models, and hostile bytes, each of which must end in an <see cref="OnnxFormatException"/> naming the problem.
/// </summary>
public class OnnxSignatureReaderTests
{
    [SharedDataFact("binary-mnist-model.onnx")]
    public void ReadsTheRealModelAsOnnxRuntimeDescribesIt()
    {
        // The data README (and ONNX Runtime, see OnnxModelTests) say: input 'input' float32 [batch, 1, 28, 28], output 'output' float32 [batch, 2].
        var signature = OnnxSignatureReader.Read(SharedData.File("binary-mnist-model.onnx"));
        var input = Assert.Single(signature.Inputs);
        Assert.Equal("input", input.Name);
        Assert.Equal(1, input.ElementType);
        Assert.Equal(new long[] { -1, 1, 28, 28 }, input.Dims);
        var output = Assert.Single(signature.Outputs);
        Assert.Equal("output", output.Name);
        Assert.Equal(1, output.ElementType);
        Assert.Equal(new long[] { -1, 2 }, output.Dims);
    }

    [SharedDataFact("binary-mnist-model.onnx")]
    public void ACutInsideAFieldOfTheRealModelIsATruncationError()
    {
        var bytes = File.ReadAllBytes(SharedData.File("binary-mnist-model.onnx"));
        // The file starts 08 06 | 12 07 "pytorch" | 1a 03 "1.8" | 3a <graph, 250 kB> …: each cut below falls inside a field.
        foreach (int length in new[] { 1, 5, 13, 17, 20, 100, 1000, bytes.Length / 2, bytes.Length - 1 })
        {
            var error = Assert.Throws<OnnxFormatException>(() => OnnxSignatureReader.Read(Stream(bytes[..length])));
            Assert.Contains("truncated", error.Message);
        }
    }

    [Fact]
    public void ReadsAHandBuiltModel()
    {
        var signature = OnnxSignatureReader.Read(Stream(MnistLike()));
        Assert.Equal("input", signature.Inputs[0].Name);
        Assert.Equal(new long[] { -1, 1, 28, 28 }, signature.Inputs[0].Dims);
        Assert.Equal(new long[] { -1, 2 }, signature.Outputs[0].Dims);
    }

    [Fact]
    public void InitializersListedAsInputsAreNotInputs()
    {
        // IR < 4 lists weights among the graph inputs; ONNX Runtime does not count them as inputs, neither does the reader.
        var model = Model(
            Value(11, "x", 1, Dim("n"), Dim(3)),
            Value(11, "weight", 1, Dim(3), Dim(2)),
            Field(5, VarintField(1, 3), Text(8, "weight"), Field(9, new byte[24])),
            Value(12, "y", 1, Dim("n"), Dim(2)));
        var signature = OnnxSignatureReader.Read(Stream(model));
        Assert.Equal(new[] { "x" }, signature.Inputs.Select(i => i.Name));
    }

    [Fact]
    public void UnknownFieldsOfEveryWireTypeAreSkipped()
    {
        var model = VarintField(1, 7)
            .Concat(new byte[] { (9 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8 })     // fixed64
            .Concat(new byte[] { (10 << 3) | 5, 1, 2, 3, 4 })                // fixed32
            .Concat(VarintField(11, 300))
            .Concat(Field(7, Field(1, Text(1, "node")), Value(11, "a", 11, Dim(4)), Value(12, "b", 7, Dim(1))))
            .ToArray();
        var signature = OnnxSignatureReader.Read(Stream(model));
        Assert.Equal(11, signature.Inputs[0].ElementType);   // double: the generator reports it, the reader only reads it
        Assert.Equal(7, signature.Outputs[0].ElementType);
    }

    [Fact]
    public void AValueWithoutShapeHasNullDims()
    {
        var model = Model(Field(11, Text(1, "x"), Field(2, Field(1, VarintField(1, 1)))), Value(12, "y", 1, Dim(2)));
        Assert.Null(OnnxSignatureReader.Read(Stream(model)).Inputs[0].Dims);
    }

    public static TheoryData<string, byte[], string> Hostile() => new()
    {
        { "empty", Array.Empty<byte>(), "empty" },
        { "text file", System.Text.Encoding.UTF8.GetBytes("hello, this is not a model\n"), "" },
        { "no graph", VarintField(1, 7), "no ModelProto.graph" },
        { "no ir_version", Field(7, Value(12, "y", 1, Dim(2))), "ir_version" },
        { "graph without outputs", Model(Value(11, "x", 1, Dim(2))), "no outputs" },
        { "graph length past the end", VarintField(1, 7).Concat(Varint((7 << 3) | 2)).Concat(Varint(1_000_000)).Concat(new byte[10]).ToArray(), "truncated" },
        { "huge length (2^63)", VarintField(1, 7).Concat(Varint((7 << 3) | 2)).Concat(Varint(1UL << 63)).ToArray(), "truncated" },
        { "nested length past its parent", VarintField(1, 7).Concat(Field(7, Varint((11 << 3) | 2), Varint(50), new byte[5])).ToArray(), "enclosing message" },
        { "varint of 11 bytes", VarintField(1, 7).Concat(new byte[] { 8 }).Concat(Enumerable.Repeat((byte)0xFF, 10)).Concat(new byte[] { 1 }).ToArray(), "varint" },
        { "group wire type", VarintField(1, 7).Concat(new byte[] { (5 << 3) | 3 }).ToArray(), "wire type 3" },
        { "field number 0", new byte[] { 0x02, 0x00 }, "field number 0" },
        { "value without name", Model(Field(12, Field(2, Field(1, VarintField(1, 1))))), "no name" },
        { "too many dims", Model(Value(12, "y", 1, Enumerable.Repeat(Dim(1), 65).ToArray())), "more than 64" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostileBytesAreAFormatError(string what, byte[] bytes, string expected)
    {
        var error = Assert.Throws<OnnxFormatException>(() => OnnxSignatureReader.Read(Stream(bytes)));
        Assert.Contains(expected, error.Message);
        Assert.False(string.IsNullOrWhiteSpace(error.Message), what);
    }

    [Fact]
    public void RandomBytesNeverEscapeAsAnotherException()
    {
        var random = new Random(20);
        for (int i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(1, 400)];
            random.NextBytes(bytes);
            if (i % 2 == 0) Array.Copy(MnistLike(), bytes, Math.Min(bytes.Length, 12));   // a valid start, then noise
            try
            {
                OnnxSignatureReader.Read(Stream(bytes));
            }
            catch (OnnxFormatException)
            {
            }
        }
    }

    [Fact]
    public void ExtractNamesAMissingFileAndABadFileWithoutThrowing()
    {
        string dir = Directory.CreateTempSubdirectory("shapgen-onnx").FullName;
        try
        {
            string missing = OnnxSignatureText.Extract(Path.Combine(dir, "none.onnx"), "none.onnx");
            Assert.Equal(OnnxSignatureText.Header + "\npath\tnone.onnx\nerror\tnotfound\tthe file does not exist\n", missing);
            File.WriteAllBytes(Path.Combine(dir, "bad.onnx"), new byte[] { 1, 2, 3 });
            Assert.Contains("error\tinvalid\t", OnnxSignatureText.Extract(Path.Combine(dir, "bad.onnx"), "bad.onnx"));
            File.WriteAllBytes(Path.Combine(dir, "good.onnx"), MnistLike());
            Assert.Equal(OnnxSignatureText.Header + "\npath\tmodels/good.onnx\ninput\t1\t?,1,28,28\tinput\noutput\t1\t?,2\toutput\n",
                         OnnxSignatureText.Extract(Path.Combine(dir, "good.onnx"), "models/good.onnx"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("/p/app", "/p/app/models/m.onnx", "models/m.onnx")]
    [InlineData("/p/app/", "/p/app/m.onnx", "m.onnx")]
    [InlineData("/p/app", "/p/shared/data/m.onnx", "../shared/data/m.onnx")]
    [InlineData("/p/app", "/p/app/a/../b/./m.onnx", "b/m.onnx")]
    public void RelativePathsAreNormalised(string project, string file, string expected) =>
        Assert.Equal(expected, OnnxSignatureText.Relative(project, file));
}
