using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using static ShapGen.Generators.Tests.OnnxSignatures;

namespace ShapGen.Generators.Tests;

/// <summary>The [ExplainableOnnx] diagnostics' cases (part of <see cref="DiagnosticCases.All"/>): each with the signature files of its build.</summary>
internal static class OnnxDiagnosticCases
{
    private const string U = TestModels.Usings + "namespace D;\n";

    private const string Right = U + "[ExplainableOnnx(\"models/mnist.onnx\", Labels = new[] { \"digit 0\", \"digit 1\" })] public partial class Net { }\n";

    private static AdditionalText[] With(params AdditionalText[] files) => [MnistFile, .. files];

    public static readonly IReadOnlyList<DiagnosticCase> All =
    [
        new("SHAPGEN020", DiagnosticSeverity.Error,
            U + "[/*<*/ExplainableOnnx(\"model/mnist.onnx\", Labels = new[] { \"digit 0\", \"digit 1\" })/*>*/] public partial class Net { }\n",
            Right, "no signature was extracted") { AdditionalFiles = With() },
        new("SHAPGEN021", DiagnosticSeverity.Error,
            U + "[/*<*/ExplainableOnnx(\"models/empty.onnx\")/*>*/] public partial class Net { }\n",
            Right, "the file is empty") { AdditionalFiles = With(File("models/empty.onnx", "error\tinvalid\tthe file is empty")) },
        new("SHAPGEN022", DiagnosticSeverity.Error,
            U + "[/*<*/ExplainableOnnx(\"models/tokens.onnx\")/*>*/] public partial class Net { }\n",
            Right, "ONNX input 'ids' of 'models/tokens.onnx' is int64")
            { AdditionalFiles = With(File("models/tokens.onnx", "input\t7\t?,16\tids", "output\t1\t?,2\tlogits")) },
        new("SHAPGEN023", DiagnosticSeverity.Warning,
            U + "[/*<*/ExplainableOnnx(\"models/any-size.onnx\")/*>*/] public partial class Net { }\n",
            Right, "[N, 3, ?, ?]")
            { AdditionalFiles = With(File("models/any-size.onnx", "input\t1\t?,3,?,?\timage", "output\t1\t?,10\tscores")) },
        new("SHAPGEN024", DiagnosticSeverity.Error,
            U + "[/*<*/ExplainableOnnx(\"models/mnist.onnx\", Output = \"logits\")/*>*/] public partial class Net { }\n",
            Right, "outputs 'output'") { AdditionalFiles = With() },
    ];
}
