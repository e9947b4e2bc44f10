using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ShapGen.Generators.Tests.Infrastructure;

/// <summary>
/// The engine API the generated code targets, as stubs for in-memory compilations, used only for the engines the
/// referenced ShapGen runtime does not (yet) contain, so that generated code is compiled against the exact signatures.
/// </summary>
internal static class EngineStubs
{
    private const string Usings = "using System; using System.Collections.Generic; using System.Threading; using TorchSharp; using static TorchSharp.torch;\nnamespace ShapGen;\n";

    private static readonly (string Type, string Source)[] Stubs =
    {
        ("ShapGen.GradientExplainer", Usings + """
            public sealed class GradientExplainOptions : ExplainOptions { public int NSamples { get; set; } = 200; public double LocalSmoothing { get; set; } public bool ReturnVariances { get; set; } }
            public sealed class GradientExplainer : IDisposable
            {
                public GradientExplainer(ExplainableModel model, Tensor[] background, string? layer = null, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null) => throw new NotImplementedException();
                public Explanation Explain(Tensor[] inputs, GradientExplainOptions? options = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
                public Tensor ExpectedValues => throw new NotImplementedException();
                public IReadOnlyList<long[]> ExplainedShapes => throw new NotImplementedException();
                public void Dispose() { }
            }
            """),
        ("ShapGen.DeepExplainer", Usings + """
            public sealed class DeepExplainOptions : ExplainOptions { public bool CheckAdditivity { get; set; } = true; }
            public sealed class DeepExplainer : IDisposable
            {
                public DeepExplainer(ExplainableModel model, Tensor[] background, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null) => throw new NotImplementedException();
                public Explanation Explain(Tensor[] inputs, DeepExplainOptions? options = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
                public void Dispose() { }
            }
            """),
        ("ShapGen.KernelExplainer", Usings + """
            public sealed class KernelExplainOptions { public int? NSamples { get; set; } public long? Seed { get; set; } }
            public sealed class KernelExplainer : IDisposable
            {
                public KernelExplainer(ExplainableModel model, Tensor[] background, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputNames = null) => throw new NotImplementedException();
                public Explanation Explain(Tensor[] inputs, KernelExplainOptions? options = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
                public void Dispose() { }
            }
            """),
        ("ShapGen.DeepLiftOps", Usings + """
            public static class DeepLiftOps
            {
                public static Tensor Relu(Tensor x) => x.relu();
                public static Tensor Sigmoid(Tensor x) => x.sigmoid();
                public static Tensor Tanh(Tensor x) => x.tanh();
                public static Tensor Elu(Tensor x, double alpha = 1.0) => nn.functional.elu(x, alpha);
                public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01) => nn.functional.leaky_relu(x, negativeSlope);
                public static Tensor Softplus(Tensor x, double beta = 1, double threshold = 20) => nn.functional.softplus(x, beta, threshold);
                public static Tensor Softmax(Tensor x, long dim) => x.softmax(dim);
                public static Tensor LogSoftmax(Tensor x, long dim) => x.log_softmax(dim);
                public static Tensor MaxPool2d(Tensor x, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false) => throw new NotImplementedException();
                public static Tensor MaxPool1d(Tensor x, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false) => throw new NotImplementedException();
            }
            """),
    };

    /// <summary>True when the referenced runtime has every engine (no stub needed).</summary>
    public static bool RuntimeHasEngines
    {
        get
        {
            var runtime = typeof(ShapGen.ExplainableModel).Assembly;
            foreach (var (type, _) in Stubs)
                if (runtime.GetType(type) is null) return false;
            return true;
        }
    }

    public static IEnumerable<SyntaxTree> MissingEngineTrees(CSharpParseOptions options)
    {
        var runtime = typeof(ShapGen.ExplainableModel).Assembly;
        foreach (var (type, source) in Stubs)
            if (runtime.GetType(type) is null)
                yield return CSharpSyntaxTree.ParseText(source, options, path: "/stubs/" + type + ".cs");
    }
}
