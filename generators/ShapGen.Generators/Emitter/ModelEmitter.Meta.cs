using System.Linq;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Emitter;

internal static partial class ModelEmitter
{
    /// <summary>The model's declaration as runtime values, and the functions that call its forward methods.</summary>
    private static void WriteMeta(SourceWriter writer, ModelSpec model)
    {
        string names = string.Join(", ", model.Inputs.Select(i => Literal(i.ParameterName)));
        string shapes = string.Join(", ", model.Inputs.Select(i => $"new long[] {{ {Dims(i.Shape)} }}"));
        string labelTexts = model.Labels is { } l ? $"new[] {{ {string.Join(", ", l.Members.Select(m => Literal(m.Text)))} }}" : "null";
        writer.WriteLine(GeneratedCode);
        writer.OpenBlock("private static class __ShapGen_Meta");
        writer.WriteLine($$"""
            internal static readonly global::ShapGen.ModelInfo Info = new(
                inputNames: new[] { {{names}} },
                sampleShapes: new[] { {{shapes}} },
                labels: {{labelTexts}});
            """);
        if (model.Labels is { } labels)
        {
            string type = LabelType(model)!;
            writer.WriteLine($"internal static readonly global::ShapGen.OutputLabels<{type}> Labels = new({string.Join(", ", labels.Members.Select(m => type + "." + m.Identifier))});");
        }
        WriteWrap(writer, model, "Wrap", "call");
        if (model.DeepLiftForward is not null)
            WriteWrap(writer, model, "WrapDeepLift", "__ShapGen_DeepLiftForward");
        writer.CloseBlock();
    }

    private static void WriteWrap(SourceWriter writer, ModelSpec model, string name, string forward)
    {
        string args = string.Join(", ", Enumerable.Range(0, model.Inputs.Count).Select(i => $"x[{N(i)}]"));
        writer.WriteLine($"""
            internal static global::ShapGen.ExplainableModel {name}({model.ClassName} model) =>
                new(x => model.{forward}({args}), {N(model.Inputs.Count)}, model ?? throw new global::System.ArgumentNullException(nameof(model)));
            """);
    }
}
