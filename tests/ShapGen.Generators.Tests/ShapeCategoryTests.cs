using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using ShapGen.Generators.Model;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>
/// Issue 15's categories, each with a correct model (no diagnostic, and the hand-derived output shape, which proves the
/// inference followed it to the end) and a planted bug (the exact id, message and span between /*&lt;*/ and /*&gt;*/).
/// </summary>
public class ShapeCategoryTests
{
    private const string U = TestModels.Usings + "namespace C;\n";

    /// <summary>A one-input model: fields, forward body (a block), the input shape and optionally a return shape.</summary>
    private static string Model(string fields, string body, string shape, string? helpers = null, string extraTypes = "") => U + extraTypes + $$"""

        [Explainable]
        public partial class M : nn.Module<Tensor, Tensor>
        {
        {{fields}}
            public M() : base("M") => RegisterComponents();
            public override Tensor forward([Shape({{shape}})] Tensor x)
            {
        {{body}}
            }
        {{helpers}}
        }
        """;

    private const string ConvBlock = """

        public sealed class ConvBlock : nn.Module<Tensor, Tensor>
        {
            private readonly nn.Module<Tensor, Tensor> conv;
            private readonly nn.Module<Tensor, Tensor> norm;
            public ConvBlock(long inChannels, long outChannels, long stride = 1) : base("ConvBlock")
            {
                conv = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1);
                norm = nn.BatchNorm2d(outChannels);
                RegisterComponents();
            }
            public override Tensor forward(Tensor x) => nn.functional.relu(norm.call(conv.call(x)));
        }

        public sealed class BasicBlock : nn.Module<Tensor, Tensor>
        {
            private readonly nn.Module<Tensor, Tensor> conv1, conv2;
            private readonly nn.Module<Tensor, Tensor>? shortcut;
            public BasicBlock(long inPlanes, long planes, long stride) : base("BasicBlock")
            {
                conv1 = nn.Conv2d(inPlanes, planes, 3, stride: stride, padding: 1);
                conv2 = nn.Conv2d(planes, planes, 3, padding: 1);
                if (stride != 1 || inPlanes != planes)
                    shortcut = nn.Sequential(nn.Conv2d(inPlanes, planes, 1, stride: stride), nn.BatchNorm2d(planes));
                RegisterComponents();
            }
            public override Tensor forward(Tensor x)
            {
                var y = conv2.call(nn.functional.relu(conv1.call(x)));
                var identity = shortcut is null ? x : shortcut.call(x);
                return nn.functional.relu(y + identity);
            }
        }

        public sealed class TimeDistributed<T> : nn.Module<Tensor, Tensor> where T : nn.Module<Tensor, Tensor>
        {
            private readonly T inner;
            public TimeDistributed(T inner) : base("TimeDistributed") { this.inner = inner; RegisterComponents(); }
            public override Tensor forward(Tensor x)
            {
                var n = x.shape[0];
                var t = x.shape[1];
                var y = inner.call(x.reshape(n * t, x.shape[2]));
                return y.reshape(n, t, -1);
            }
        }
        """;

    /// <summary>(name, source, output shape) of correct models.</summary>
    public static readonly IReadOnlyList<(string Name, string Source, long[] Output)> Correct = new (string, string, long[])[]
    {
        ("1 broadcasting add, mul, where", Model("    private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(16, 16, 3, padding: 1);",
            "        var y = x + conv.call(x);\n        var g = torch.sigmoid(y.mean(new long[] { 2, 3 }, keepdim: true));\n        var z = torch.where(y > 0, y.mul(g), torch.add(y, g));\n        return z.flatten(1);", "16, 8, 8"),
            new long[] { 1024 }),
        ("2 reshape with -1 first and in the middle", Model("    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(1352, 10);",
            "        var a = x.reshape(-1, 1352);\n        var b = x.view(x.size(0), -1, 13);\n        return fc.call(a) + b.flatten(1).narrow(1, 0, 10);", "8, 13, 13"),
            new long[] { 10 }),
        ("3 tensor operations", Model("    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(24, 5);",
            """
                    var q = x.permute(0, 2, 1);                                                 // [N, 6, 4]
                    var k = x.transpose(1, 2);                                                  // [N, 6, 4]
                    var att = torch.matmul(q, k.transpose(-2, -1));                             // [N, 6, 6]
                    var parts = att.chunk(2, 2);                                                // 2 × [N, 6, 3]
                    var halves = att.split(new long[] { 4, 2 }, 1);                             // [N, 4, 6], [N, 2, 6]
                    var s = torch.stack(new[] { parts[0], parts[1] }, 1).flatten(1, 2).sum(1);  // [N, 2, 6, 3] → [N, 12, 3] → [N, 3]
                    var m = halves[0].amax(new long[] { 1 }, keepdim: false);                   // [N, 6]
                    var e = x.unsqueeze(1).expand(-1, 2, -1, -1).squeeze(1).select(1, 0);      // [N, 1, 4, 6] → [N, 2, 4, 6] → [N, 4, 6]
                    var r = m.unsqueeze(1).repeat(1, 4, 1).flatten(1);                          // [N, 4, 6] → [N, 24]
                    var (values, _) = att.max(2);                                               // [N, 6]
                    return fc.call(r) + s.mean(new long[] { 1 }, keepdim: true) + values.narrow(1, 0, 5) + e.sum(new long[] { 1, 2 }).unsqueeze(1);
            """, "4, 6"),
            new long[] { 5 }),
        ("4 user modules: ConvBlock twice, BasicBlock residuals, generic TimeDistributed", U + ConvBlock + """

            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> stem = new ConvBlock(3, 16);
                private readonly nn.Module<Tensor, Tensor> down = new ConvBlock(16, 32, 2);
                private readonly nn.Module<Tensor, Tensor> layer1 = new BasicBlock(32, 32, 1);
                private readonly nn.Module<Tensor, Tensor> layer2 = new BasicBlock(32, 64, 2);
                private readonly nn.Module<Tensor, Tensor> perStep = new TimeDistributed<nn.Module<Tensor, Tensor>>(nn.Linear(12, 8));
                private readonly nn.Module<Tensor, Tensor> head = nn.Linear(64 * 8 * 8 + 5 * 8, 10);
                public M() : base("M") => RegisterComponents();
                [return: Shape(10)]
                public override Tensor forward([Shape(3, 32, 32)] Tensor image, [Shape(5, 12)] Tensor steps)
                {
                    var a = layer2.call(layer1.call(down.call(stem.call(image)))).flatten(1);
                    var b = perStep.call(steps).flatten(1);
                    return head.call(torch.cat(new[] { a, b }, 1));
                }
            }
            """, new long[] { 10 }),
        ("5 helper methods", Model("    private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(1, 8, 5);\n    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(8 * 12 * 12, 10);",
            "        return Classify(Features(x));", "1, 28, 28",
            "    private Tensor Features(Tensor t) => nn.functional.max_pool2d(conv.call(t).relu(), 2);\n    private Tensor Classify(Tensor t) { var flat = t.flatten(1); return fc.call(flat); }"),
            new long[] { 10 }),
        ("6 branches joined and a VGG loop unrolled", U + """

            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private static readonly int[] Config = { 8, 8, -1, 16, -1 };
                private readonly nn.Module<Tensor, Tensor> features;
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(16 * 4 * 4, 3);
                public M() : base("M")
                {
                    var layers = new System.Collections.Generic.List<(string, nn.Module<Tensor, Tensor>)>();
                    long channels = 1;
                    int index = 0;
                    foreach (var width in Config)
                    {
                        if (width < 0) { layers.Add(($"{index++}", nn.MaxPool2d(2))); continue; }
                        layers.Add(((index++).ToString(), nn.Conv2d(channels, width, 3, padding: 1)));
                        layers.Add(((index++).ToString(), nn.ReLU()));
                        channels = width;
                    }
                    features = nn.Sequential(layers);
                    RegisterComponents();
                }
                public override Tensor forward([Shape(1, 16, 16)] Tensor x)
                {
                    Tensor h;
                    if (x.shape[0] > 1) h = features.call(x + torch.randn_like(x));
                    else h = features.call(x);
                    for (int i = 0; i < 2; i++) h = h * 0.5;
                    return fc.call(h.flatten(1));
                }
            }
            """, new long[] { 3 }),
        ("7 recurrent, embedding, attention and layers", U + """

            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> embed = nn.Embedding(1000, 32);
                private readonly TorchSharp.Modules.LSTM lstm = nn.LSTM(32, 64, numLayers: 2, batchFirst: true, bidirectional: true);
                private readonly TorchSharp.Modules.GRU gru = nn.GRU(128, 16, batchFirst: true);
                private readonly TorchSharp.Modules.MultiheadAttention attention = nn.MultiheadAttention(16, 4);
                private readonly nn.Module<Tensor, Tensor> up = nn.ConvTranspose2d(4, 8, 2, stride: 2);
                private readonly nn.Module<Tensor, Tensor> up1 = nn.ConvTranspose1d(16, 4, 3);
                private readonly nn.Module<Tensor, Tensor> upsample = nn.Upsample(scale_factor: new double[] { 2, 2 });
                private readonly nn.Module<Tensor, Tensor> group = nn.GroupNorm(2, 8);
                private readonly nn.Module<Tensor, Tensor> instance = nn.InstanceNorm2d(8, affine: true);
                private readonly nn.Module<Tensor, Tensor> shuffle = nn.PixelShuffle(2);
                private readonly nn.Module<Tensor, Tensor> drop = nn.Dropout2d(0.1);
                private readonly nn.Module<Tensor, Tensor> id = nn.Identity();
                private readonly nn.Module<Tensor, Tensor> head = nn.Linear(10 * 16 + 2 * 32 * 32 + 4 * 12, 2);
                public M() : base("M") => RegisterComponents();
                public override Tensor forward([Shape(10)] Tensor tokens, [Shape(4, 8, 8)] Tensor image)
                {
                    var (seq, h, c) = lstm.call(embed.call(tokens));          // [N, 10, 128]
                    var (g, _) = gru.call(seq);                               // [N, 10, 16]
                    var t = g.transpose(0, 1);                                // [10, N, 16]
                    var attended = attention.call(t, t, t).Item1;             // [10, N, 16]
                    var a = attended.transpose(0, 1).flatten(1);              // [N, 160]
                    var u = instance.call(group.call(drop.call(up.call(image))));   // [N, 8, 16, 16]
                    var p = shuffle.call(upsample.call(id.call(u))).flatten(1);     // [N, 8, 32, 32] → [N, 2, 64, 64] → [N, 8192]
                    var w = up1.call(g.transpose(1, 2)).flatten(1);           // [N, 4, 12]
                    return head.call(torch.cat(new[] { a, p.narrow(1, 0, 2 * 32 * 32), w }, 1));
                }
            }
            """, new long[] { 2 }),
    };

    /// <summary>(name, source with the expected span marked, expected message) of models with a planted bug.</summary>
    public static readonly IReadOnlyList<(string Name, string Source, string Message)> Buggy = new (string, string, string)[]
    {
        ("1 residual with 16 vs 32 channels", Model("    private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(16, 32, 3, padding: 1);",
            "        return (/*<*/x + conv.call(x)/*>*/).flatten(1);", "16, 8, 8"),
            "Operator '+' expects shapes that broadcast (equal sizes or 1 in each dimension), receives [N, 16, 8, 8] and [N, 32, 8, 8]"),
        ("1 torch.where with incompatible shapes", Model("", "        return /*<*/torch.where(x > 0, x, x.flatten(1))/*>*/;", "4, 6"),
            "where expects shapes that broadcast (equal sizes or 1 in each dimension), receives [N, 4, 6] and [N, 24]"),
        ("2 reshape(-1, 1568) on 1352 elements", Model("    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(1568, 10);",
            "        var flat = /*<*/x.reshape(-1, 1568)/*>*/;\n        return fc.call(flat);", "8, 13, 13"),
            "reshape expects sizes that divide the 1352 elements per sample (input shape [N, 8, 13, 13]), so that -1 keeps the batch, receives [-1, 1568]"),
        ("3 matmul inner sizes", Model("", "        var q = x.unsqueeze(1).expand(-1, 2, -1, -1).flatten(1, 2);\n        return /*<*/torch.matmul(q, q)/*>*/;", "64, 16"),
            "matmul expects a second operand with 16 rows (first operand [N, 128, 16]), receives 128 (second operand [N, 128, 16])"),
        ("3 permute then Linear", Model("    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(6, 3);",
            "        var p = x.permute(0, 2, 1);\n        return /*<*/fc.call(p)/*>*/;", "4, 6"),
            "Linear 'fc' expects 6 input features, receives 4 (input shape [N, 6, 4])"),
        ("3 mean keepdim then cat", Model("", "        var m = x.mean(new long[] { 2 }, keepdim: true);\n        return /*<*/torch.cat(new[] { x, m }, 1)/*>*/;", "4, 6"),
            "cat expects equal sizes except in dimension 1 (first tensor [N, 4, 6]), receives tensor 1 of shape [N, 4, 1]"),
        ("3 split sizes", Model("", "        var parts = /*<*/x.split(new long[] { 2, 3 }, 1)/*>*/;\n        return parts[0];", "6"),
            "split expects split sizes that add up to 6 (dimension 1 of [N, 6]), receives [2, 3]"),
        ("3 stack of unequal shapes", Model("", "        return /*<*/torch.stack(new[] { x, x.narrow(1, 0, 2) }, 1)/*>*/;", "4"),
            "stack expects tensors of equal shape (first tensor [N, 4]), receives tensor 1 of shape [N, 2]"),
        ("4 BasicBlock with a wrong in_planes", (U + ConvBlock + """

            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> stem = new ConvBlock(3, 16);
                private readonly nn.Module<Tensor, Tensor> layer = new BasicBlock(32, 32, 1);
                public M() : base("M") => RegisterComponents();
                public override Tensor forward([Shape(3, 8, 8)] Tensor x) => layer.call(stem.call(x)).flatten(1);
            }
            """).Replace("var y = conv2.call(nn.functional.relu(conv1.call(x)));", "var y = conv2.call(nn.functional.relu(/*<*/conv1.call(x)/*>*/));"),
            "Conv2d 'layer.conv1' expects 32 input channels, receives 16 (input shape [N, 16, 8, 8])"),
        ("5 helper method with a wrong size", Model("    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(100, 10);",
            "        return Head(x.flatten(1));", "1, 28, 28", "    private Tensor Head(Tensor t) => /*<*/fc.call(t)/*>*/;"),
            "Linear 'fc' expects 100 input features, receives 784 (input shape [N, 784])"),
        ("6 VGG loop with a wrong classifier size", U + """

            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> features;
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(16 * 8 * 8, 3);
                public M() : base("M")
                {
                    var layers = new System.Collections.Generic.List<nn.Module<Tensor, Tensor>>();
                    long channels = 1;
                    foreach (var width in new[] { 8, -1, 16, -1 })
                    {
                        if (width < 0) { layers.Add(nn.MaxPool2d(2)); continue; }
                        layers.Add(nn.Conv2d(channels, width, 3, padding: 1));
                        channels = width;
                    }
                    features = nn.Sequential(layers.ToArray());
                    RegisterComponents();
                }
                public override Tensor forward([Shape(1, 16, 16)] Tensor x) => /*<*/fc.call(features.call(x).flatten(1))/*>*/;
            }
            """, "Linear 'fc' expects 1024 input features, receives 256 (input shape [N, 256])"),
        ("7 LSTM input size", U + """

            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> embed = nn.Embedding(100, 32);
                private readonly TorchSharp.Modules.LSTM lstm = nn.LSTM(64, 16, batchFirst: true);
                public M() : base("M") => RegisterComponents();
                public override Tensor forward([Shape(10)] Tensor x)
                {
                    var (o, h, c) = /*<*/lstm.call(embed.call(x))/*>*/;
                    return o;
                }
            }
            """, "LSTM 'lstm' expects 64 input features, receives 32 (input shape [N, 10, 32])"),
        ("7 PixelShuffle channels", Model("    private readonly nn.Module<Tensor, Tensor> shuffle = nn.PixelShuffle(2);",
            "        return /*<*/shuffle.call(x)/*>*/;", "6, 4, 4"),
            "PixelShuffle 'shuffle' expects a channel count divisible by 4 (upscale factor 2 squared), receives 6 (input shape [N, 6, 4, 4])"),
        ("7 GroupNorm channels", Model("    private readonly nn.Module<Tensor, Tensor> norm = nn.GroupNorm(2, 8);",
            "        return /*<*/norm.call(x)/*>*/;", "6, 4, 4"),
            "GroupNorm 'norm' expects 8 channels, receives 6 (input shape [N, 6, 4, 4])"),
        ("7 ConvTranspose2d output into Linear", Model("    private readonly nn.Module<Tensor, Tensor> up = nn.ConvTranspose2d(4, 2, 2, stride: 2);\n    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(64, 2);",
            "        return /*<*/fc.call(up.call(x).flatten(1))/*>*/;", "4, 4, 4"),
            "Linear 'fc' expects 64 input features, receives 128 (input shape [N, 128])"),
    };

    public static IEnumerable<object[]> CorrectNames() => Correct.Select(c => new object[] { c.Name });

    public static IEnumerable<object[]> BuggyNames() => Buggy.Select(c => new object[] { c.Name });

    [Theory]
    [MemberData(nameof(CorrectNames))]
    public void ACorrectModelIsFollowedToItsOutputWithoutDiagnostics(string name)
    {
        var c = Correct.Single(x => x.Name == name);
        var run = SwallowedExceptions.Watch(() => GeneratorHarness.Run(WithCoverage(c.Source)));
        Assert.Empty(run.AllDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        var spec = (ModelSpec)run.Result.Results[0].TrackedSteps[ShapGenGenerator.TrackingNames.Models].Single().Outputs.Single().Value;
        string coverage = string.Join("; ", run.Result.Diagnostics.Where(d => d.Id == "SHAPGEN015").Select(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(spec.OutputShape is { } output && c.Output.SequenceEqual(output), $"output [{string.Join(", ", spec.OutputShape ?? (System.Collections.Generic.IEnumerable<long>)Array.Empty<long>())}]; {coverage}");
    }

    /// <summary>A compilation with the coverage report on, so that a failure says where inference stopped.</summary>
    internal static Microsoft.CodeAnalysis.CSharp.CSharpCompilation WithCoverage(string source)
    {
        var compilation = GeneratorHarness.CreateCompilation(source);
        return compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions(new[] { new KeyValuePair<string, ReportDiagnostic>("SHAPGEN015", ReportDiagnostic.Info) }));
    }

    [Theory]
    [MemberData(nameof(BuggyNames))]
    public void APlantedBugIsReportedAtItsSpanWithBothShapes(string name)
    {
        var c = Buggy.Single(x => x.Name == name);
        var run = SwallowedExceptions.Watch(() => GeneratorHarness.Run(c.Source.Replace("/*<*/", "").Replace("/*>*/", "")));
        var diagnostic = Assert.Single(run.AllDiagnostics(), d => d.Id.StartsWith("SHAPGEN", StringComparison.Ordinal));
        Assert.Equal("SHAPGEN008", diagnostic.Id);
        Assert.Equal(c.Message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        int start = c.Source.IndexOf("/*<*/", StringComparison.Ordinal);
        int end = c.Source.IndexOf("/*>*/", StringComparison.Ordinal) - 5;
        Assert.Equal(Microsoft.CodeAnalysis.Text.TextSpan.FromBounds(start, end), diagnostic.Location.SourceSpan);
    }

    [Theory]
    [InlineData("var l = new System.Collections.Generic.List<nn.Module<Tensor, Tensor>>(); var alias = l; alias.Add(nn.Linear(12, 3)); l.Add(nn.Linear(3, 2)); s = nn.Sequential(l.ToArray());")]
    [InlineData("var l = new System.Collections.Generic.List<nn.Module<Tensor, Tensor>>(); AddFirst(l); l.Add(nn.Linear(3, 2)); s = nn.Sequential(l.ToArray());")]
    [InlineData("var a = new nn.Module<Tensor, Tensor>[] { nn.Linear(3, 2), nn.Linear(2, 2) }; a[0] = nn.Linear(12, 3); s = nn.Sequential(a);")]
    public void ListsChangedThroughAliasesHelpersOrElementsCauseNoFalseError(string constructor)
    {
        var run = SwallowedExceptions.Watch(() => GeneratorHarness.Run(U + $$"""
            [Explainable]
            public partial class M : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> s;
                public M() : base("M") { {{constructor}} RegisterComponents(); }
                private static void AddFirst(System.Collections.Generic.List<nn.Module<Tensor, Tensor>> layers) => layers.Add(nn.Linear(12, 3));
                public override Tensor forward([Shape(12)] Tensor x) => s.call(x);
            }
            """));
        Assert.Empty(run.AllDiagnostics());
    }

    [Fact]
    public void ACallSiteTensorCreatedInALocalIsChecked()
    {
        string model = Model("    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(784, 10);", "        return fc.call(x.flatten(1));", "1, 28, 28");
        var wrong = GeneratorHarness.Run(model + "\nstatic class App { static M.Batch Make() { var images = torch.randn(16, 28, 28); return new M.Batch(images); } }");
        var diagnostic = Assert.Single(wrong.AllDiagnostics(), d => d.Id.StartsWith("SHAPGEN", StringComparison.Ordinal));
        Assert.Equal("SHAPGEN010", diagnostic.Id);
        Assert.Equal("Argument 'x' has per-sample shape [28, 28] (full shape [16, 28, 28]), but the model declares [Shape] [1, 28, 28]",
            diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        var right = GeneratorHarness.Run(model + "\nstatic class App { static M.Batch Make() { var images = torch.randn(16, 1, 28, 28); return new M.Batch(images); } }");
        Assert.Empty(right.AllDiagnostics());
        var reassigned = GeneratorHarness.Run(model + "\nstatic class App { static M.Batch Make(bool b) { var images = torch.randn(16, 28, 28); if (b) images = images.unsqueeze(1); return new M.Batch(images); } }");
        Assert.Empty(reassigned.AllDiagnostics());
    }
}
