using ShapGen.Generators.Model;

namespace ShapGen.Generators.Emitter;

internal static partial class ModelEmitter
{
    private static void WriteLabelEnum(SourceWriter writer, ModelSpec model)
    {
        var labels = model.Labels!;
        writer.WriteLine($"""
            /// <summary>The model's outputs, in output order (from <c>[Explainable(Labels = ...)]</c>).</summary>
            {GeneratedCode}
            """);
        writer.OpenBlock("public enum Label");
        for (int i = 0; i < labels.Members.Count; i++)
            writer.WriteLine($"""
                /// <summary>Output {N(i)}: "{Xml(labels.Members[i].Text)}".</summary>
                {labels.Members[i].Identifier} = {N(i)},
                """);
        writer.CloseBlock();
    }

    private static void WriteInputEnum(SourceWriter writer, ModelSpec model)
    {
        writer.WriteLine($"""
            /// <summary>The model's inputs: the parameters of <c>forward</c>, in order.</summary>
            {GeneratedCode}
            """);
        writer.OpenBlock("public enum Input");
        for (int i = 0; i < model.Inputs.Count; i++)
        {
            var input = model.Inputs[i];
            writer.WriteLine($"""
                /// <summary>Parameter <c>{input.ParameterName}</c>, per-sample shape {Shape(input.Shape)}.</summary>
                {input.PropertyName} = {N(i)},
                """);
        }
        writer.CloseBlock();
    }
}
