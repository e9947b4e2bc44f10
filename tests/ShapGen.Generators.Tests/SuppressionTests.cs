using System.Linq;
using Microsoft.CodeAnalysis;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>
/// A SHAPGEN warning obeys <c>#pragma warning disable</c>, as any compiler warning does: the reason the generator
/// re-anchors its cached diagnostics to the compilation's syntax trees before reporting them.
/// </summary>
public class SuppressionTests
{
    private static string Model(string forward) => TestModels.Usings + $$"""
        namespace P;

        [Explainable]
        public sealed partial class M : nn.Module<Tensor, Tensor>
        {
            private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(12, 4);
            public M() : base(nameof(M)) => RegisterComponents();
        {{forward}}
        }
        """;

    private const string Forward = "    public override Tensor forward([Shape(12)] Tensor x) => fc.forward(x);";

    [Fact]
    public void PragmaWarningDisableSuppressesAShapGenWarning()
    {
        Assert.Contains("SHAPGEN012", Reported(Model(Forward)));
        Assert.DoesNotContain("SHAPGEN012", Reported(Model("#pragma warning disable SHAPGEN012\n" + Forward + "\n#pragma warning restore SHAPGEN012")));
        Assert.Contains("SHAPGEN012", Reported(Model("#pragma warning disable SHAPGEN011\n" + Forward)));   // another id stays reported
    }

    /// <summary>The ids the compiler would report, after its filtering (#pragma, severity options).</summary>
    private static string[] Reported(string source)
    {
        var compilation = GeneratorHarness.CreateCompilation(source);
        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out _, out var diagnostics);
        return diagnostics.Where(d => !d.IsSuppressed && d.Severity >= DiagnosticSeverity.Warning).Select(d => d.Id).ToArray();
    }
}
