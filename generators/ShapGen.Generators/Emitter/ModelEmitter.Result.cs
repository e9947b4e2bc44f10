using ShapGen.Generators.Model;

namespace ShapGen.Generators.Emitter;

internal static partial class ModelEmitter
{
    private static void WriteAttributions(SourceWriter writer, ModelSpec model)
    {
        writer.WriteLine($"""
            /// <summary>The attributions of one output (or variances of their estimates), one tensor per input, each shaped like that input's batch.</summary>
            {GeneratedCode}
            """);
        writer.OpenBlock("public readonly struct Attributions");
        writer.WriteLine("""
            private readonly global::ShapGen.OutputAttributions _values;
            internal Attributions(global::ShapGen.OutputAttributions values) => _values = values;
            """);
        for (int i = 0; i < model.Inputs.Count; i++)
        {
            var input = model.Inputs[i];
            writer.WriteLine($"""

                /// <summary>For input <c>{input.ParameterName}</c>: {BatchShape(input)}. Owned by the result.</summary>
                public {Tensor} {input.PropertyName} => _values[{N(i)}];
                """);
        }
        writer.WriteLine($"""

            /// <summary>The tensor for one input.</summary>
            public {Tensor} this[Input input] => _values[(int)input];
            """);
        writer.CloseBlock();
    }

    private static void WriteResult(SourceWriter writer, ModelSpec model)
    {
        writer.WriteLine($"""
            /// <summary>An explanation of a batch with typed access by label and by input. Owns its tensors: dispose it.</summary>
            {GeneratedCode}
            """);
        writer.OpenBlock("public sealed class Result : global::ShapGen.ExplanationResult<Input>");
        writer.WriteLine("""
            /// <summary>Wraps an engine explanation (and takes ownership of it).</summary>
            /// <param name="explanation">The engine's explanation.</param>
            public Result(global::ShapGen.Explanation explanation) : base(explanation) { }
            """);
        if (LabelType(model) is { } label)
            writer.WriteLine($"""

                /// <summary>The attributions of one labelled output (not available with ranked outputs: use <see cref="Rank"/>).</summary>
                public Attributions this[{label} label] => new(Output(__ShapGen_Meta.Labels.IndexOf(label)));

                /// <summary>The variances of the estimates for one labelled output (requires ReturnVariances).</summary>
                public Attributions Variance({label} label) => new(OutputVariances(__ShapGen_Meta.Labels.IndexOf(label)));
                """);
        writer.WriteLine("""

            /// <summary>The attributions of model output <paramref name="output"/> (not available with ranked outputs: use <see cref="Rank"/>).</summary>
            public Attributions this[int output] => new(Output(output));

            /// <summary>With ranked outputs: the attributions at rank <paramref name="rank"/> (0 = first), for each sample the output in <c>RankedIndexes</c>.</summary>
            public Attributions Rank(int rank) => new(AtRank(rank));
            """);
        WriteLabelledMembers(writer, model);
        writer.CloseBlock();
    }

    private static void WriteLayerResult(SourceWriter writer, ModelSpec model)
    {
        writer.WriteLine($"""
            /// <summary>An explanation of an inner layer (its input or output, or a Grad-CAM map, as the explainer says): per output, one tensor [N, …]. Owns its tensors: dispose it.</summary>
            {GeneratedCode}
            """);
        writer.OpenBlock("public sealed class LayerResult : global::ShapGen.LayerExplanationResult");
        writer.WriteLine("""
            /// <summary>Wraps an engine explanation of a layer (taking ownership) and checks its per-sample shape when one is known.</summary>
            /// <param name="explanation">The engine's explanation.</param>
            /// <param name="layer">The layer path, for messages.</param>
            /// <param name="shape">The expected per-sample shape of the layer input, or null.</param>
            public LayerResult(global::ShapGen.Explanation explanation, string layer, global::System.Collections.Generic.IReadOnlyList<long>? shape)
                : base(explanation, layer, shape) { }
            """);
        if (LabelType(model) is { } label)
            writer.WriteLine($"""

                /// <summary>The attributions of one labelled output to the layer input, [N, …layer shape] (not available with ranked outputs: use <see cref="global::ShapGen.LayerExplanationResult.Rank"/>).</summary>
                public {Tensor} this[{label} label] => this[__ShapGen_Meta.Labels.IndexOf(label)];
                """);
        WriteLabelledMembers(writer, model);
        writer.CloseBlock();
    }

    /// <summary>The members both result types have when the model has labels.</summary>
    private static void WriteLabelledMembers(SourceWriter writer, ModelSpec model)
    {
        if (LabelType(model) is not { } label) return;
        writer.WriteLine($"""

            /// <summary>E[f(background)] of one labelled output.</summary>
            public double ExpectedValue({label} label) => ExpectedValue(__ShapGen_Meta.Labels.IndexOf(label));

            /// <summary>With ranked outputs: for each sample, the labels of the outputs explained at each rank; otherwise null.</summary>
            public {label}[][]? RankedLabels => __ShapGen_Meta.Labels.Of(RankedIndexes);
            """);
    }
}
