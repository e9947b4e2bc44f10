using System;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Core;

/// <summary>
/// The runtime types that generated code fills in (ModelInfo, InputBatch, OutputLabels, ExplanationResult,
/// LayerExplanationResult), on hand-built explanations whose every value is known.
/// </summary>
public class GeneratedApiBaseTests
{
    private enum Digit { Zero, One, Two }

    private enum Shuffled { C = 7, A = 3, B = 5 }

    private enum TwoInputs { Left, Right }

    private static readonly ModelInfo Info = new(new[] { "left", "right" }, new[] { new long[] { 2 }, new long[] { 1, 3 } }, new[] { "zero", "one", "two" });

    private sealed class Batch : InputBatch
    {
        public Batch(Tensor? left, Tensor? right) : base(Info, left, right) { }

        public Tensor Right => InputAt(1);

        public Tensor At(int input) => InputAt(input);
    }

    private sealed class Result : ExplanationResult<TwoInputs>
    {
        public Result(Explanation explanation) : base(explanation) { }

        public OutputAttributions this[int output] => Output(output);

        public OutputAttributions Variances(int output) => OutputVariances(output);

        public OutputAttributions Rank(int rank) => AtRank(rank);
    }

    private sealed class Layer : LayerExplanationResult
    {
        public Layer(Explanation explanation, long[]? shape) : base(explanation, "features.7", shape) { }
    }

    /// <summary>Output o, input i holds the constant 10·o + i (variances: 100 + 10·o + i); E[f] = [0.5, 1.5, 2.5].</summary>
    private static Explanation Make(long[,]? ranks = null, int outputs = 3)
    {
        var values = Enumerable.Range(0, outputs).Select(o => new[] { full(2, 2, 10.0 * o), full(2, 1, 3, 10.0 * o + 1) }).ToArray();
        var variances = Enumerable.Range(0, outputs).Select(o => new[] { full(2, 2, 100.0 + 10 * o), full(2, 1, 3, 101.0 + 10 * o) }).ToArray();
        return new Explanation(values, tensor(new[] { 0.5, 1.5, 2.5 }), variances,
                               ranks is null ? null : tensor(ranks), new[] { "zero", "one", "two" });
    }

    [Fact]
    public void UnrankedResultsAreReadByOutputAndRefuseRanks()
    {
        using var result = new Result(Make());
        Assert.False(result.IsRanked);
        Assert.Null(result.RankedIndexes);
        Assert.Equal(21.0, result[2][1].mean().ToDouble());
        Assert.Equal(110.0, result.Variances(1)[0].mean().ToDouble());
        Assert.Equal(new[] { 1.0, 11.0, 21.0 }, result.ForInput(TwoInputs.Right).Select(t => t.mean().ToDouble()));
        Assert.Equal(new[] { 100.0, 110.0, 120.0 }, result.VariancesForInput(TwoInputs.Left).Select(t => t.mean().ToDouble()));
        Assert.Equal(1.5, result.ExpectedValue(1));
        Assert.Equal(new[] { "zero", "one", "two" }, result.Labels);
        using var layout = result.ToShapLayout(TwoInputs.Right);
        Assert.Equal(new long[] { 2, 1, 3, 3 }, layout.shape);
        var error = Assert.Throws<InvalidOperationException>(() => result.Rank(0));
        Assert.Contains("without RankedOutputs", error.Message);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => result.ExpectedValue(3));
        Assert.Contains("3 output(s)", range.Message);
    }

    [Fact]
    public void RankedResultsAreReadByRankAndRefuseOutputIndexes()
    {
        using var result = new Result(Make(new long[,] { { 2, 0 }, { 1, 2 } }, outputs: 2));
        Assert.True(result.IsRanked);
        Assert.Equal(new[] { new long[] { 2, 0 }, new long[] { 1, 2 } }, result.RankedIndexes);
        Assert.Equal(result.RankedIndexes, result.RankedIndexes);   // reading twice leaves the explanation intact
        Assert.Equal(10.0, result.Rank(1)[0].mean().ToDouble());
        var error = Assert.Throws<InvalidOperationException>(() => result[0]);
        Assert.Contains("Rank(i)", error.Message);
        Assert.Throws<InvalidOperationException>(() => result.Variances(0));
        Assert.Equal(2.5, result.ExpectedValue(2));   // expected values stay per model output
    }

    [Fact]
    public void LayerResultsCheckTheLayerShapeAndSeparateOutputsFromRanks()
    {
        using (var layer = new Layer(Make(), new long[] { 2 }))
        {
            Assert.Equal("features.7", layer.Layer);
            Assert.Equal(20.0, layer[2].mean().ToDouble());
            Assert.Throws<InvalidOperationException>(() => layer.Rank(0));
        }
        using (var ranked = new Layer(Make(new long[,] { { 1 }, { 0 } }, outputs: 1), null))
        {
            Assert.Equal(0.0, ranked.Rank(0).mean().ToDouble());
            Assert.Throws<InvalidOperationException>(() => ranked[0]);
        }
        var explanation = Make();
        var error = Assert.Throws<InvalidOperationException>(() => new Layer(explanation, new long[] { 3 }));
        Assert.Equal("Layer 'features.7' has per-sample input shape [2]; expected [3].", error.Message);
        Assert.Throws<ObjectDisposedException>(() => explanation[0, 0]);   // the rejected explanation was freed
    }

    [Fact]
    public void OutputLabelsMapLabelsInOutputOrderEvenWhenEnumValuesAreNot()
    {
        var labels = new OutputLabels<Shuffled>(Shuffled.C, Shuffled.A, Shuffled.B);
        Assert.Equal(3, labels.Count);
        Assert.Equal(0, labels.IndexOf(Shuffled.C));
        Assert.Equal(2, labels.IndexOf(Shuffled.B));
        Assert.Equal(Shuffled.A, labels[1]);
        Assert.Equal(new[] { new[] { Shuffled.B, Shuffled.C } }, labels.Of(new[] { new long[] { 2, 0 } }));
        Assert.Null(labels.Of(null));
        var unknown = Assert.Throws<ArgumentOutOfRangeException>(() => labels.IndexOf((Shuffled)4));
        Assert.Equal("label", unknown.ParamName);
        Assert.Contains("C, A, B", unknown.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => labels[3]);
        Assert.Equal(1, new OutputLabels<Digit>(Digit.Zero, Digit.One, Digit.Two).IndexOf(Digit.One));
    }

    [Fact]
    public void BatchesAreCheckedAgainstTheModelInfoAndNameTheirInputs()
    {
        using var scope = NewDisposeScope();
        var batch = new Batch(zeros(4, 2), ones(4, 1, 3));
        Assert.Equal(4, batch.Count);
        Assert.Equal(3.0, batch.Right.sum().ToDouble() / 4);
        Assert.NotSame(batch.ToArray(), batch.ToArray());   // callers cannot replace the batch's tensors
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.At(2));

        Assert.Equal("right", Assert.Throws<ArgumentNullException>(() => new Batch(zeros(4, 2), null)).ParamName);
        var shape = Assert.Throws<ArgumentException>(() => new Batch(zeros(4, 2), zeros(4, 3)));
        Assert.Contains("'right'", shape.Message);
        Assert.Contains("[3]", shape.Message);
        Assert.Contains("[1, 3]", shape.Message);
        Assert.Throws<ArgumentException>(() => new ModelInfo(new[] { "a" }, new[] { new long[] { 1 }, new long[] { 2 } }));
    }
}
