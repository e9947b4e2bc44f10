using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace ShapGen.Generators.Tests;

/// <summary>A wrong program (span marked with /*&lt;*/ … /*&gt;*/) and its corrected form, per diagnostic.</summary>
internal sealed record DiagnosticCase(string Id, DiagnosticSeverity Severity, string Wrong, string Right, string? MessageContains = null)
{
    /// <summary>True for a diagnostic that is off by default: the case compiles with it enabled.</summary>
    public bool Enable { get; init; }

    /// <summary>Additional files of the build (the extracted ONNX signatures for [ExplainableOnnx] cases).</summary>
    public Microsoft.CodeAnalysis.AdditionalText[]? AdditionalFiles { get; init; }
}

internal static class DiagnosticCases
{
    private const string U = TestModels.Usings + "namespace D;\n";

    private static string Model(string header, string body, string forward) => U + header + "\n{\n" + body + "\n    " + forward + "\n}\n";

    private const string Fc = "    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(12, 4);\n    public M() : base(\"M\") => RegisterComponents();";

    public static readonly IReadOnlyList<DiagnosticCase> All =
    [
        new DiagnosticCase("SHAPGEN001", DiagnosticSeverity.Error,
            Model("[Explainable] public sealed class /*<*/M/*>*/ : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);")),
        new DiagnosticCase("SHAPGEN002", DiagnosticSeverity.Error,
            U + "[Explainable] public partial class /*<*/M/*>*/ { public Tensor forward([Shape(12)] Tensor x) => x; }",
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);")),
        new DiagnosticCase("SHAPGEN003", DiagnosticSeverity.Error,
            U + "[Explainable] public partial class M : nn.Module<Tensor, long, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x, [Shape(1)] long /*<*/k/*>*/) => x; }",
            U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x, [Shape(1)] Tensor k) => x; }",
            "'k'"),
        new DiagnosticCase("SHAPGEN004", DiagnosticSeverity.Error,
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward(Tensor /*<*/x/*>*/) => fc.call(x);"),
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);")),
        new DiagnosticCase("SHAPGEN005", DiagnosticSeverity.Error,
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([/*<*/Shape(0, 12)/*>*/] Tensor x) => fc.call(x);"),
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(1, 12)] Tensor x) => fc.call(x);"),
            "0"),
        new DiagnosticCase("SHAPGEN006", DiagnosticSeverity.Error,
            Model("[Explainable, /*<*/ExplainLayer(\"fc9\")/*>*/] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            Model("[Explainable, ExplainLayer(\"fc\")] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            "fc9"),
        new DiagnosticCase("SHAPGEN007", DiagnosticSeverity.Error,
            Model("[/*<*/Explainable(Labels = new[] { \"a\", \"b\", \"c\" })/*>*/] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            Model("[Explainable(Labels = new[] { \"a\", \"b\", \"c\", \"d\" })] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            "3 label(s) but its output has 4"),
        new DiagnosticCase("SHAPGEN008", DiagnosticSeverity.Error,
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(3, 5)] Tensor x)\n    {\n        var h = x.flatten(1);\n        return /*<*/fc.call(h)/*>*/;\n    }"),
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(3, 4)] Tensor x)\n    {\n        var h = x.flatten(1);\n        return fc.call(h);\n    }"),
            "Linear 'fc' expects 12 input features, receives 15"),
        new DiagnosticCase("SHAPGEN009", DiagnosticSeverity.Error,
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "[return: Shape(5)] public override Tensor forward([Shape(12)] Tensor x) => /*<*/fc.call(x)/*>*/;"),
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "[return: Shape(4)] public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            "[4]"),
        new DiagnosticCase("SHAPGEN010", DiagnosticSeverity.Error,
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);") +
                "static class App { public static M.Batch Make() => new M.Batch(/*<*/torch.zeros(3, 13)/*>*/); }",
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);") +
                "static class App { public static M.Batch Make() => new M.Batch(torch.zeros(3, 12)); }",
            "[13]"),
        new DiagnosticCase("SHAPGEN011", DiagnosticSeverity.Warning,
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "[return: Shape(4)] public override Tensor forward([Shape(12)] Tensor x) => nn.functional./*<*/gelu/*>*/(fc.call(x));"),
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "[return: Shape(4)] public override Tensor forward([Shape(12)] Tensor x) => nn.functional.relu(fc.call(x));"),
            "gelu"),
        new DiagnosticCase("SHAPGEN012", DiagnosticSeverity.Warning,
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc./*<*/forward/*>*/(x);"),
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            "fc.call"),
        new DiagnosticCase("SHAPGEN013", DiagnosticSeverity.Error,
            U + "[Explainable] public partial class /*<*/M/*>*/<T> : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => x; }",
            U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => x; }",
            "generic"),
        new DiagnosticCase("SHAPGEN014", DiagnosticSeverity.Error,
            Model("[/*<*/Explainable(Labels = new[] { \"a b\", \"a_b\", \"c\", \"d\" })/*>*/] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            Model("[Explainable(Labels = new[] { \"a b\", \"a c\", \"c\", \"d\" })] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            "a_b"),
        new DiagnosticCase("SHAPGEN015", DiagnosticSeverity.Info,
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc + "\n    private readonly System.Func<Tensor, Tensor> scale = t => t * 2;",
                "public override Tensor /*<*/forward/*>*/([Shape(12)] Tensor x)\n    {\n        var h = fc.call(x);\n        return scale(h);\n    }"),
            Model("[Explainable] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc,
                "public override Tensor forward([Shape(12)] Tensor x)\n    {\n        var h = fc.call(x);\n        return h * 2;\n    }"),
            "to line 12; inference stops at line 13") { Enable = true },
        new DiagnosticCase("SHAPGEN016", DiagnosticSeverity.Warning,
            Model("[/*<*/Explainable(Methods = ExplainMethods.IntegratedGradients | ExplainMethods.LayerIntegratedGradients)/*>*/] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            Model("[Explainable(Methods = ExplainMethods.IntegratedGradients | ExplainMethods.LayerIntegratedGradients), ExplainLayer(\"fc\")] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            "requests layer method(s) LayerIntegratedGradients"),
        new DiagnosticCase("SHAPGEN017", DiagnosticSeverity.Warning,
            Model("[Explainable, /*<*/ExplainLayer(\"fc\", Methods = ExplainMethods.GradCam)/*>*/] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            Model("[Explainable, ExplainLayer(\"fc\", Methods = ExplainMethods.LayerIntegratedGradients)] public sealed partial class M : nn.Module<Tensor, Tensor>", Fc, "public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);"),
            "returns per-sample [4]"),
        .. OnnxDiagnosticCases.All,
    ];
}
