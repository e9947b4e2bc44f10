using Microsoft.CodeAnalysis;
using ShapGen.Generators.Tests.Infrastructure;

namespace ShapGen.Generators.Tests;

/// <summary>Extracted ONNX signature files, as the build step writes them (src/ShapGen.Onnx/build/OnnxSignature.cs), for the generator tests.</summary>
internal static class OnnxSignatures
{
    public const string Header = "shapgen-onnx-signature\t1";

    /// <summary>binary-mnist-model.onnx's signature: input 'input' float [N, 1, 28, 28], output 'output' float [N, 2].</summary>
    public static readonly string[] Mnist = { "input\t1\t?,1,28,28\tinput", "output\t1\t?,2\toutput" };

    public static string Text(string path, params string[] lines) => Header + "\npath\t" + path + "\n" + string.Join("\n", lines) + "\n";

    public static AdditionalText File(string path, params string[] lines) => FromText(path, Text(path, lines));

    public static AdditionalText FromText(string path, string text) =>
        new InMemoryAdditionalText("/project/obj/shapgen-onnx/" + path.Replace('/', '_') + ".shapgen-onnx", text);

    /// <summary>models/mnist.onnx with the binary-MNIST signature.</summary>
    public static AdditionalText MnistFile => File("models/mnist.onnx", Mnist);
}
