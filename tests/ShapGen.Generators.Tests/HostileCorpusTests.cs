using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>
/// Odd, half-written and hostile model classes: the generator never throws (no CS8785), reports only documented
/// diagnostics, and whatever it generates for code that compiles also compiles.
/// </summary>
public class HostileCorpusTests
{
    private const string U = TestModels.Usings;

    private const string Body = """
            private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(12, 4);
            public M() : base("M") => RegisterComponents();
            public override Tensor forward([Shape(12)] Tensor x) => fc.call(x);
        """;

    public static readonly IReadOnlyList<(string Name, string Source)> Corpus = new (string, string)[]
    {
        ("missing closing brace", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> {" + Body),
        ("missing class body", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor>"),
        ("missing name", U + "[Explainable] public partial class : nn.Module<Tensor, Tensor> { }"),
        ("attribute only", U + "[Explainable]"),
        ("attribute unclosed", U + "[Explainable(Labels = new[] { \"a\" public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("forward without body", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) }"),
        ("forward half written", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) { var y = x.flatten( ; return } }"),
        ("forward missing", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } }"),
        ("forward wrong arity", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public Tensor forward([Shape(1)] Tensor a, [Shape(1)] Tensor b) => a; }"),
        ("generic class", U + "[Explainable] public partial class M<T> : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("generic container", U + "public partial class Outer<T> { [Explainable] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "} }"),
        ("nested in partial", U + "public partial class Outer { [Explainable] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "} }"),
        ("nested in non-partial", U + "public class Outer { [Explainable] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "} }"),
        ("nested in partial struct", U + "public partial struct Outer { [Explainable] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "} }"),
        ("doubly nested", U + "public partial class A { public partial class B { [Explainable] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "} } }"),
        ("record", U + "[Explainable] public partial record M([Shape(12)] Tensor x);"),
        ("record struct", U + "[Explainable] public partial record struct M(int X);"),
        ("struct", U + "[Explainable] public partial struct M { public Tensor forward([Shape(12)] Tensor x) => x; }"),
        ("static class", U + "[Explainable] public static partial class M { public static Tensor forward([Shape(12)] Tensor x) => x; }"),
        ("interface", U + "[Explainable] public partial interface M { Tensor forward([Shape(12)] Tensor x); }"),
        ("enum", U + "[Explainable] public enum M { A }"),
        ("abstract", U + "[Explainable] public abstract partial class M : nn.Module<Tensor, Tensor> { protected M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => x; }"),
        ("no module base", U + "[Explainable] public partial class M { }"),
        ("non-generic module", U + "[Explainable] public partial class M : nn.Module { public M() : base(\"M\") { } }"),
        ("non-tensor output", U + "[Explainable] public partial class M : nn.Module<Tensor, (Tensor, Tensor)> { public M() : base(\"M\") { } public override (Tensor, Tensor) forward([Shape(12)] Tensor x) => (x, x); }"),
        ("seven inputs", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> { public M() : base(\"M\") { } }"),
        ("six inputs", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(1)] Tensor a, [Shape(1)] Tensor b, [Shape(1)] Tensor c, [Shape(1)] Tensor d, [Shape(1)] Tensor e, [Shape(1)] Tensor f) => a + b + c + d + e + f; }"),
        ("non-constant shape", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { static int n = 3; public M() : base(\"M\") { } public override Tensor forward([Shape(n)] Tensor x) => x; }"),
        ("shape from a string", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(\"12\")] Tensor x) => x; }"),
        ("huge dimensions", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(int.MaxValue, int.MaxValue, int.MaxValue)] Tensor x) => x; }"),
        ("int overflow literal", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(4294967296)] Tensor x) => x; }"),
        ("negative dimension", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(-1)] Tensor x) => x; }"),
        ("empty shape", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape] Tensor x) => x; }"),
        ("null shape", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(null)] Tensor x) => x; }"),
        ("non-constant labels", U + "[Explainable(Labels = Names)] public partial class M : nn.Module<Tensor, Tensor> { static readonly string[] Names = { \"a\" }; " + Body + "}"),
        ("null label", U + "[Explainable(Labels = new string[] { null!, \"b\", \"c\", \"d\" })] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("empty labels", U + "[Explainable(Labels = new string[0])] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("keyword labels", U + "[Explainable(Labels = new[] { \"class\", \"int\", \"value__\", \"\" })] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("unicode and symbol labels", U + "[Explainable(Labels = new[] { \"été\", \"a-b\", \"3.5\", \"日本\" })] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("labels enum not enum", U + "[Explainable(LabelsEnum = typeof(string))] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("labels enum unknown type", U + "[Explainable(LabelsEnum = typeof(Nope))] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("labels and enum", U + "public enum E { A, B, C, D } [Explainable(Labels = new[] { \"a\", \"b\", \"c\", \"d\" }, LabelsEnum = typeof(E))] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("partial in two files", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(12, 4); public M() : base(\"M\") => RegisterComponents(); }\npublic partial class M { public override Tensor forward([Shape(12)] Tensor x) => fc.call(x); }"),
        ("attribute twice on two parts", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}\n[Explainable] public partial class M { }"),
        ("explain layer null", U + "[Explainable, ExplainLayer(null!)] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("explain layer non-constant", U + "[Explainable, ExplainLayer(Path)] public partial class M : nn.Module<Tensor, Tensor> { static string Path = \"fc\"; " + Body + "}"),
        ("explain layer bad name", U + "[Explainable, ExplainLayer(\"fc\", Name = \"not valid\")] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("explain layer twice same", U + "[Explainable, ExplainLayer(\"fc\"), ExplainLayer(\"fc\")] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("explain layer zero shape", U + "[Explainable, ExplainLayer(\"fc\", Shape = new[] { 0 })] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("explain layer with dots", U + "[Explainable, ExplainLayer(\"a..b.\")] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("recursive forward", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => forward(forward(x)); }"),
        ("loops and branches", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(12, 12); public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) { for (int i = 0; i < 3; i++) x = fc.call(x); if (x.shape[0] > 2) { var y = x.relu(); return y; } goto end; end: return x; } }"),
        ("lambdas and local functions", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) { System.Func<Tensor, Tensor> f = t => t.relu(); Tensor g(Tensor t) => nn.functional.relu(t); return f(g(x)); } }"),
        ("field assigned twice", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private nn.Module<Tensor, Tensor> fc = nn.Linear(12, 4); public M(bool big) : base(\"M\") { if (big) fc = nn.Linear(12, 8); } public override Tensor forward([Shape(12)] Tensor x) => fc.call(x); }"),
        ("computed layer arguments", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> fc; public M(int n) : base(\"M\") { fc = nn.Linear(n, 4); } [return: Shape(4)] public override Tensor forward([Shape(12)] Tensor x) => fc.call(x); }"),
        ("sequential of unknowns", U + "[Explainable, ExplainLayer(\"seq.5\")] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> seq = nn.Sequential(Make(), nn.ReLU()); static nn.Module<Tensor, Tensor> Make() => nn.Linear(12, 4); public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => seq.call(x); }"),
        ("inplace relu and dtype", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => nn.functional.softmax(nn.functional.relu(x, inplace: true), 1, ScalarType.Float64).relu_(); }"),
        ("user method named relu", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } static Tensor relu(Tensor t) => t; public override Tensor forward([Shape(12)] Tensor x) => relu(x); }"),
        ("unresolved calls", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => Undefined.call(x).whatever(); }"),
        ("reshape odd arguments", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(3, 4)] Tensor x) { var n = x.shape[0]; var a = x.view(-1, -1); var b = x.reshape(0, 12); var c = x.view(n, 5, -1); var d = x.view(x.shape[0], 7); return torch.cat(new[] { a, b }, 9); } }"),
        ("cat along batch and odd ranks", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(3, 4)] Tensor x) => torch.cat(new[] { x, x.flatten(1) }, 0); }"),
        ("conv larger than input", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> c = nn.Conv2d(1, 2, 9); public M() : base(\"M\") { } public override Tensor forward([Shape(1, 4, 4)] Tensor x) => c.call(x); }"),
        ("conv stride zero", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> c = nn.Conv2d(1, 2, 3, stride: 0); public M() : base(\"M\") { } public override Tensor forward([Shape(1, 4, 4)] Tensor x) => c.call(x); }"),
        ("pool with tuples and ceil", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> p = nn.MaxPool2d((3, 2), stride: (2, 2), ceil_mode: true); public M() : base(\"M\") { } public override Tensor forward([Shape(1, 7, 7)] Tensor x) => p.call(x); }"),
        ("module property", U + "[Explainable, ExplainLayer(\"fc\")] public partial class M : nn.Module<Tensor, Tensor> { public nn.Module<Tensor, Tensor> Fc { get; } = nn.Linear(12, 4); public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => Fc.call(x); }"),
        ("user base class", U + "public abstract class Base : nn.Module<Tensor, Tensor> { protected readonly nn.Module<Tensor, Tensor> fc = nn.Linear(12, 4); protected Base() : base(\"B\") { } }\n[Explainable, ExplainLayer(\"fc\")] public partial class M : Base { public override Tensor forward([Shape(12)] Tensor x) => fc.call(x); }"),
        ("hides generated names", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public int Batch; " + Body + "}"),
        ("parameter named like keywords", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(2)] Tensor @class, [Shape(2)] Tensor Class) => @class + Class; }"),
        ("parameter named count", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(2)] Tensor count) => count; }"),
        ("global namespace", U + "[Explainable(Labels = new[] { \"a\", \"b\", \"c\", \"d\" })] public sealed partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("file scoped and block namespaces", U + "namespace A.B { namespace C { using System.Linq; [Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => nn.functional.relu(x); } } }"),
        ("internal and private", U + "internal partial class Outer { [Explainable] private sealed partial class M : nn.Module<Tensor, Tensor> {" + Body + "} }"),
        ("attribute on method", U + "public partial class M { [Explainable] public void F() { } }"),
        ("preprocessor noise", U + "#if NEVER\n[Explainable] public partial class M : nn.Module<Tensor, Tensor> {\n#endif\n public class Z { }"),
        ("deeply nested expressions", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => " + string.Concat(Enumerable.Repeat("nn.functional.relu(", 200)) + "x" + new string(')', 200) + "; }"),
        ("wrong attribute argument type", U + "[Explainable(Labels = 3)] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("labels typeof a class", U + "[Explainable(Labels = typeof(M))] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("labels array of ints", U + "[Explainable(Labels = new[] { 1, 2, 3, 4 })] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("labels enum and typeof", U + "public enum E { A, B, C, D } [Explainable(Labels = typeof(E), LabelsEnum = typeof(E))] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
        ("loop with a huge constant bound", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) { for (long i = 0; i < 1000000000; i++) x = x + 1; return x; } }"),
        ("while true with break", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) { int i = 0; while (true) { if (i++ > 3) break; x = x * 2; } return x; } }"),
        ("module constructing itself", U + "public sealed class Loop : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> inner = new Loop(); public Loop() : base(\"L\") { } public override Tensor forward(Tensor x) => inner.call(x); }\n[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> l = new Loop(); public M() : base(\"M\") => RegisterComponents(); public override Tensor forward([Shape(12)] Tensor x) => l.call(x); }"),
        ("mutually recursive helpers", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => A(x, 3); Tensor A(Tensor t, int n) => n == 0 ? t : B(t, n - 1); Tensor B(Tensor t, int n) => A(t.relu(), n); }"),
        ("unbounded recursion on a constant", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) => F(x, 0); Tensor F(Tensor t, int n) => F(t + 1, n + 1); }"),
        ("user block constructor throws", U + "public sealed class Bad : nn.Module<Tensor, Tensor> { public Bad(int n) : base(\"B\") { if (n > 0) throw new System.ArgumentException(); } public override Tensor forward(Tensor x) => x; }\n[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> b = new Bad(1); public M() : base(\"M\") => RegisterComponents(); public override Tensor forward([Shape(12)] Tensor x) => b.call(x); }"),
        ("generic block without source forward", U + "public abstract class Base<T> : nn.Module<Tensor, Tensor> { protected Base() : base(\"B\") { } }\npublic sealed class Impl<T> : Base<T> { public override Tensor forward(Tensor x) => x.view(-1, 5); }\n[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> b = new Impl<int>(); public M() : base(\"M\") => RegisterComponents(); public override Tensor forward([Shape(12)] Tensor x) => b.call(x); }"),
        ("switch, try and goto in forward", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) { switch (x.shape.Length) { case 2: x = x.view(-1, 3, 4); break; default: break; } try { x = x.relu(); } catch { x = x * 0; } return x.flatten(1); } }"),
        ("deeply nested sequentials", U + "[Explainable, ExplainLayer(\"s.0.0.0.0\")] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> s = nn.Sequential(nn.Sequential(nn.Sequential(nn.Sequential(nn.Linear(12, 4))))); public M() : base(\"M\") => RegisterComponents(); public override Tensor forward([Shape(12)] Tensor x) => s.call(x); }"),
        ("reshape with zero and negative sizes", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(12)] Tensor x) { var a = x.reshape(0, -1); var b = x.view(-3, 4); var c = x.permute(5, 0); var d = x.transpose(7, 0); var e = x.narrow(9, 0, 1); return x.chunk(0, 1)[0] + x.split(-1, 1)[0]; } }"),
        ("indexing out of range constants", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { public M() : base(\"M\") { } public override Tensor forward([Shape(3, 4)] Tensor x) { var a = x[0, 5, 1, 1, 1]; var b = x.select(1, 9); return x.shape[7] > 0 ? x : x.unsqueeze(-9); } }"),
        ("lists mutated through aliases", U + "[Explainable] public partial class M : nn.Module<Tensor, Tensor> { private readonly nn.Module<Tensor, Tensor> s; public M() : base(\"M\") { var l = new System.Collections.Generic.List<nn.Module<Tensor, Tensor>>(); var alias = l; alias.Add(nn.Linear(12, 3)); l.Add(nn.Linear(3, 2)); s = nn.Sequential(l.ToArray()); RegisterComponents(); } public override Tensor forward([Shape(12)] Tensor x) => s.call(x); }"),
        ("labels legacy enum property", U + "public enum E { A, B, C, D } [Explainable(LabelsEnum = typeof(E))] public partial class M : nn.Module<Tensor, Tensor> {" + Body + "}"),
    };

    public static IEnumerable<object[]> Names() => Corpus.Select(c => new object[] { c.Name });

    [Fact]
    public void CorpusHasAtLeastFiftyCases() => Assert.True(Corpus.Count >= 50, Corpus.Count.ToString());

    [Theory]
    [MemberData(nameof(Names))]
    public void GeneratorNeverThrowsAndReportsOnlyDocumentedDiagnostics(string name)
    {
        var source = Corpus.Single(c => c.Name == name).Source;
        var compilation = GeneratorHarness.CreateCompilation(source);
        var run = SwallowedExceptions.Watch(() => GeneratorHarness.Run(compilation));

        Assert.All(run.Result.Results, r => Assert.Null(r.Exception));
        Assert.DoesNotContain(run.DriverDiagnostics, d => d.Id is "CS8784" or "CS8785");
        var known = DiagnosticDescriptors.All.Select(d => d.Id).ToHashSet();
        Assert.All(run.GeneratorDiagnostics, d => Assert.Contains(d.Id, known));

        bool userCodeCompiles = !compilation.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error);
        bool generatorErrors = run.GeneratorDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
        if (userCodeCompiles && !generatorErrors)
            Assert.Empty(run.GeneratedCodeProblems);
    }
}
