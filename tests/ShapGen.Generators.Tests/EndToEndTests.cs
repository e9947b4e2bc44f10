using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using ShapGen.Generators.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>
/// Compiles a user program with the generator (references: TorchSharp and the ShapGen runtime), emits and loads it,
/// and runs explanations through the generated API. The models are chosen so the exact answer is known by hand.
/// </summary>
public class EndToEndTests
{
    private const string Program = TestModels.Usings + """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        namespace E2E;

        [Explainable(Labels = new[] { "neg", "pos" })]
        [ExplainLayer(nameof(fc), Name = "HiddenExplainer")]
        public sealed partial class LinearTwoInput : nn.Module<Tensor, Tensor, Tensor>
        {
            public readonly nn.Module<Tensor, Tensor> fc = nn.Linear(7, 2);
            public LinearTwoInput() : base(nameof(LinearTwoInput)) => RegisterComponents();

            [return: Shape(2)]
            public override Tensor forward([Shape(1, 2, 2)] Tensor grid, [Shape(3)] Tensor extra) =>
                fc.call(cat(new[] { grid.flatten(1), extra }, 1));
        }

        [Explainable]
        public sealed partial class FunctionalRelu : nn.Module<Tensor, Tensor>
        {
            private readonly nn.Module<Tensor, Tensor> fc1 = nn.Linear(6, 8);
            private readonly nn.Module<Tensor, Tensor> fc2 = nn.Linear(8, 3);
            public FunctionalRelu() : base(nameof(FunctionalRelu)) => RegisterComponents();

            [return: Shape(3)]
            public override Tensor forward([Shape(6)] Tensor features)
            {
                var h = nn.functional.relu(fc1.call(features));
                return torch.tanh(fc2.call(h));
            }
        }

        public static class Runner
        {
            /// <summary>Max |error| against w ⊙ (x − r) for the linear model, per explainer, and other checks.</summary>
            public static Dictionary<string, double> Run()
            {
                var report = new Dictionary<string, double>();
                torch.manual_seed(7);
                using var scope = torch.NewDisposeScope();
                var model = new LinearTwoInput();
                model.eval();
                var bgGrid = torch.randn(1, 1, 2, 2);
                var bgExtra = torch.randn(1, 3);
                var xGrid = torch.randn(3, 1, 2, 2);
                var xExtra = torch.randn(3, 3);
                var background = new LinearTwoInput.Batch(bgGrid, bgExtra);
                var inputs = new LinearTwoInput.Batch(grid: xGrid, extra: xExtra);

                Tensor weight = model.fc.parameters().First().detach();   // [2, 7]
                Tensor ExpectedGrid(int o) => weight[o].narrow(0, 0, 4).reshape(1, 1, 2, 2) * (xGrid - bgGrid);
                Tensor ExpectedExtra(int o) => weight[o].narrow(0, 4, 3).reshape(1, 3) * (xExtra - bgExtra);
                double Error(LinearTwoInput.Attributions a, int o) =>
                    Math.Max((a.Grid - ExpectedGrid(o)).abs().max().ToDouble(), (a[LinearTwoInput.Input.Extra] - ExpectedExtra(o)).abs().max().ToDouble());

                using (var gradient = new LinearTwoInput.GradientExplainer(model, background))
                using (var result = gradient.Explain(inputs, new GradientExplainOptions { NSamples = 20, Seed = 1, ReturnVariances = true }))
                {
                    report["gradient.error"] = Math.Max(Error(result[LinearTwoInput.Label.neg], 0), Error(result[LinearTwoInput.Label.pos], 1));
                    report["gradient.shapeOk"] = result[LinearTwoInput.Label.pos].Grid.shape.SequenceEqual(new long[] { 3, 1, 2, 2 }) ? 1 : 0;
                    report["gradient.variance"] = result.Variance(LinearTwoInput.Label.pos).Extra.abs().max().ToDouble();
                    using var f = model.call(bgGrid, bgExtra);
                    report["gradient.expectedError"] = Math.Abs(result.ExpectedValue(LinearTwoInput.Label.pos) - f[0, 1].ToDouble());
                    using var layout = result.ToShapLayout(LinearTwoInput.Input.Grid);
                    report["gradient.layoutOk"] = layout.shape.SequenceEqual(new long[] { 3, 1, 2, 2, 2 }) ? 1 : 0;
                    var variances = result.VariancesForInput(LinearTwoInput.Input.Extra);
                    report["gradient.variancesForInputOk"] = variances.Count == 2 && ReferenceEquals(variances[1], result.Variance(LinearTwoInput.Label.pos).Extra) ? 1 : 0;
                    try { _ = result.Rank(0); report["gradient.rankThrows"] = 0; }
                    catch (InvalidOperationException) { report["gradient.rankThrows"] = 1; }
                }
                using (var layer = new LinearTwoInput.HiddenExplainer(model, background))
                using (var result = layer.Explain(inputs, new GradientExplainOptions { NSamples = 10, Seed = 2 }))
                {
                    // The layer input is cat(flatten(grid), extra): attributions w ⊙ (h − h_r), [N, 7].
                    var h = torch.cat(new[] { xGrid.flatten(1), xExtra }, 1);
                    var hr = torch.cat(new[] { bgGrid.flatten(1), bgExtra }, 1);
                    report["layer.error"] = Math.Max((result[LinearTwoInput.Label.neg] - weight[0] * (h - hr)).abs().max().ToDouble(),
                                                     (result[LinearTwoInput.Label.pos] - weight[1] * (h - hr)).abs().max().ToDouble());
                    report["layer.shapeOk"] = LinearTwoInput.HiddenExplainer.LayerShape!.SequenceEqual(new long[] { 7 }) ? 1 : 0;
                    report["layer.labelledOk"] = ReferenceEquals(result[LinearTwoInput.Label.pos], result[1]) ? 1 : 0;
                }
                using (var layer = new LinearTwoInput.HiddenExplainer(model, background))
                using (var result = layer.Explain(inputs, new GradientExplainOptions { NSamples = 5, Seed = 3, RankedOutputs = 1 }))
                {
                    // Rank 0 of sample i explains its top output t_i: w[t_i] ⊙ (h_i − h_r).
                    using var outputs = model.call(xGrid, xExtra);
                    var top = outputs.argmax(1).data<long>().ToArray();
                    var h = torch.cat(new[] { xGrid.flatten(1), xExtra }, 1);
                    var hr = torch.cat(new[] { bgGrid.flatten(1), bgExtra }, 1);
                    var expected = torch.stack(Enumerable.Range(0, 3).Select(i => weight[top[i]] * (h[i] - hr[0])).ToArray());
                    report["layerRanked.error"] = (result.Rank(0) - expected).abs().max().ToDouble();
                    report["layerRanked.labelsOk"] = Enumerable.Range(0, 3).All(i => (long)result.RankedLabels![i][0] == top[i] && result.RankedIndexes![i][0] == top[i]) ? 1 : 0;
                    try { _ = result[LinearTwoInput.Label.pos]; report["layerRanked.indexerThrows"] = 0; }
                    catch (InvalidOperationException) { report["layerRanked.indexerThrows"] = 1; }
                }
                using (var ranked = new LinearTwoInput.GradientExplainer(model, background))
                using (var result = ranked.Explain(inputs, new GradientExplainOptions { NSamples = 5, RankedOutputs = 1 }))
                {
                    using var outputs = model.call(xGrid, xExtra);
                    var top = outputs.argmax(1).data<long>().ToArray();
                    _ = result.RankedIndexes;   // reading twice must not free the explanation's tensor
                    var labels = result.RankedLabels!;
                    report["ranked.labelsOk"] = Enumerable.Range(0, 3).All(i => (long)labels[i][0] == top[i]) ? 1 : 0;
                    try { _ = result[LinearTwoInput.Label.pos]; report["ranked.indexerThrows"] = 0; }
                    catch (InvalidOperationException) { report["ranked.indexerThrows"] = 1; }
                }
                using (var deep = new LinearTwoInput.DeepExplainer(model, background))
                using (var result = deep.Explain(inputs))
                    report["deep.error"] = Math.Max(Error(result[LinearTwoInput.Label.neg], 0), Error(result[LinearTwoInput.Label.pos], 1));
                using (var kernel = new LinearTwoInput.KernelExplainer(model, background))
                using (var result = kernel.Explain(inputs, new KernelExplainOptions { Seed = 5 }))
                    report["kernel.error"] = Math.Max(Error(result[LinearTwoInput.Label.neg], 0), Error(result[LinearTwoInput.Label.pos], 1));

                try
                {
                    _ = new LinearTwoInput.Batch(torch.zeros(3, 4), xExtra);
                    report["batch.throws"] = 0;
                }
                catch (ArgumentException e)
                {
                    report["batch.throws"] = e.Message.Contains("grid") && e.Message.Contains("[4]") && e.Message.Contains("[1, 2, 2]") ? 1 : 0;
                }

                // DeepLIFT through the generated forward: functional relu and torch.tanh get DeepLIFT's rules, so
                // attributions add up to f(x) − E[f(background)] exactly.
                var relu = new FunctionalRelu();
                relu.eval();
                var reluBackground = new FunctionalRelu.Batch(torch.randn(5, 6));
                var reluInputs = new FunctionalRelu.Batch(torch.randn(4, 6) * 2);
                using (var deep = new FunctionalRelu.DeepExplainer(relu, reluBackground))
                using (var result = deep.Explain(reluInputs, new DeepExplainOptions { CheckAdditivity = false }))
                {
                    using var fx = relu.call(reluInputs.Features);
                    using var fb = relu.call(reluBackground.Features).mean(new long[] { 0 });
                    double worst = 0;
                    for (int o = 0; o < 3; o++)
                    {
                        using var total = result[o].Features.sum(1);
                        using var change = fx[.., o] - fb[o];
                        worst = Math.Max(worst, (total - change).abs().max().ToDouble());
                    }
                    report["deepRelu.additivityError"] = worst;
                    report["deepRelu.expectedError"] = (result.ExpectedValues - fb).abs().max().ToDouble();
                }
                // The same engine on the plain forward cannot see the functional relu: additivity breaks.
                using (var plain = new ShapGen.DeepExplainer(ExplainableModel.Create(relu), new[] { reluBackground.Features }))
                using (var result = plain.Explain(new[] { reluInputs.Features }, new DeepExplainOptions { CheckAdditivity = false }))
                {
                    using var fx = relu.call(reluInputs.Features);
                    using var fb = relu.call(reluBackground.Features).mean(new long[] { 0 });
                    double worst = 0;
                    for (int o = 0; o < 3; o++)
                    {
                        using var total = result[o, 0].sum(1);
                        using var change = fx[.., o] - fb[o];
                        worst = Math.Max(worst, (total - change).abs().max().ToDouble());
                    }
                    report["deepPlain.additivityError"] = worst;
                }
                return report;
            }
        }
        """;

    [Fact]
    public void GeneratedApiRunsExplanationsEndToEnd()
    {
        var run = GeneratorHarness.Run(Program);
        Assert.Empty(run.AllDiagnostics(withAnalyzers: false));

        using var stream = new MemoryStream();
        var emitted = run.Output.Emit(stream);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        stream.Position = 0;
        var assembly = new AssemblyLoadContext("ShapGen.E2E").LoadFromStream(stream);
        var method = assembly.GetType("E2E.Runner")!.GetMethod("Run", BindingFlags.Public | BindingFlags.Static)!;
        var report = (System.Collections.Generic.Dictionary<string, double>)method.Invoke(null, null)!;

        Assert.InRange(report["gradient.error"], 0, 1e-5);
        Assert.Equal(1, report["gradient.shapeOk"]);
        Assert.InRange(report["gradient.variance"], 0, 1e-10);   // a linear model's gradient is constant
        Assert.InRange(report["gradient.expectedError"], 0, 1e-5);
        Assert.Equal(1, report["gradient.layoutOk"]);
        Assert.Equal(1, report["gradient.variancesForInputOk"]);
        Assert.Equal(1, report["gradient.rankThrows"]);
        Assert.Equal(1, report["layer.labelledOk"]);
        Assert.InRange(report["layerRanked.error"], 0, 1e-5);
        Assert.Equal(1, report["layerRanked.labelsOk"]);
        Assert.Equal(1, report["layerRanked.indexerThrows"]);
        Assert.Equal(1, report["ranked.labelsOk"]);
        Assert.InRange(report["layer.error"], 0, 1e-5);
        Assert.Equal(1, report["layer.shapeOk"]);
        Assert.Equal(1, report["ranked.indexerThrows"]);
        Assert.InRange(report["deep.error"], 0, 1e-5);
        Assert.InRange(report["kernel.error"], 0, 1e-4);
        Assert.Equal(1, report["batch.throws"]);
        Assert.InRange(report["deepRelu.additivityError"], 0, 1e-4);
        Assert.InRange(report["deepRelu.expectedError"], 0, 1e-5);
        Assert.True(report["deepPlain.additivityError"] > 1e-3, "the additivity check would not notice a missing rewrite");
    }
}
