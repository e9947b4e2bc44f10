using System.Linq;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Emitter;

internal static partial class ModelEmitter
{
    private static void WriteBatch(SourceWriter writer, ModelSpec model)
    {
        string parameters = string.Join(", ", model.Inputs.Select(i => $"[global::ShapGen.Shape({Dims(i.Shape)})] {Tensor} {Id(i.ParameterName)}"));
        string arguments = string.Join(", ", model.Inputs.Select(i => Id(i.ParameterName)));
        writer.WriteLine($"""
            /// <summary>
            /// A batch of inputs for <see cref="{model.ClassName}"/>: one tensor per <c>forward</c> parameter, [N, …per-sample shape].
            /// Shapes are checked when it is built. It does not own the tensors.
            /// </summary>
            {GeneratedCode}
            """);
        writer.OpenBlock("public sealed class Batch : global::ShapGen.InputBatch");
        writer.WriteLine("/// <summary>Builds a batch and checks every input's per-sample shape, dtype and batch size.</summary>");
        foreach (var input in model.Inputs)
            writer.WriteLine($"""/// <param name="{input.ParameterName}">Input <c>{input.ParameterName}</c>: {BatchShape(input)}.</param>""");
        writer.WriteLine($$"""
            /// <exception cref="global::System.ArgumentException">A shape, dtype or batch size is wrong.</exception>
            public Batch({{parameters}})
                : base(__ShapGen_Meta.Info, {{arguments}}) { }
            """);
        for (int i = 0; i < model.Inputs.Count; i++)
        {
            var input = model.Inputs[i];
            writer.WriteLine($"""

                /// <summary>Input <c>{input.ParameterName}</c>, {BatchShape(input)}.</summary>
                public {Tensor} {input.PropertyName} => InputAt({N(i)});
                """);
        }
        writer.WriteLine($"""

            /// <summary>The declared per-sample shape of each input, in input order.</summary>
            public static global::System.Collections.Generic.IReadOnlyList<long[]> SampleShapes => __ShapGen_Meta.Info.SampleShapes;

            /// <summary>The input's tensor.</summary>
            public {Tensor} this[Input input] => InputAt((int)input);
            """);
        writer.CloseBlock();
    }
}
