using ShapGen.Generators.Model;

namespace ShapGen.Generators.Emitter;

internal static partial class ModelEmitter
{
    /// <summary>An engine the typed API offers: its generated class name, runtime type, options and what it computes.</summary>
    private sealed record Engine(string Name, string What, bool DeepLift)
    {
        public string Type => "global::ShapGen." + Name;

        public string Options => "global::ShapGen." + Name.Replace("Explainer", "ExplainOptions");
    }

    private static readonly Engine[] Engines =
    {
        new("GradientExplainer", "expected gradients (shap's GradientExplainer)", DeepLift: false),
        new("DeepExplainer", "DeepLIFT-SHAP (shap's DeepExplainer)", DeepLift: true),
        new("KernelExplainer", "KernelSHAP (shap's KernelExplainer)", DeepLift: false),
    };

    private static readonly Engine LayerEngine = Engines[0];

    private static void WriteExplainer(SourceWriter writer, ModelSpec model, Engine engine)
    {
        bool rewritten = engine.DeepLift && model.DeepLiftForward is not null;
        string what = rewritten ? engine.What + "; functional nonlinearities in forward go through the generated DeepLIFT forward" : engine.What;
        WriteExplainerHeader(writer, model, engine.Name, what, engine, "Result");
        WriteExplainerConstructor(writer, model, engine.Name, engine, rewritten ? "WrapDeepLift" : "Wrap", "", "new Result(explanation)");
        writer.CloseBlock();
    }

    private static void WriteLayerExplainer(SourceWriter writer, ModelSpec model, LayerSpec layer)
    {
        WriteExplainerHeader(writer, model, layer.ClassName, $"expected gradients for the input of layer '{Xml(layer.Path)}'", LayerEngine, "LayerResult");
        writer.WriteLine($"""
            /// <summary>The explained layer's module path.</summary>
            public const string LayerPath = {Literal(layer.Path)};

            """);
        writer.WriteLine(layer.Shape is { } shape
            ? $$"""
              /// <summary>The layer input's per-sample shape {{Shape(shape)}} (checked on every result).</summary>
              public static global::System.Collections.Generic.IReadOnlyList<long>? LayerShape { get; } = new long[] { {{Dims(shape)}} };
              """
            : """
              /// <summary>The layer input's per-sample shape: unknown at compile time (set ExplainLayer's Shape to check it).</summary>
              public static global::System.Collections.Generic.IReadOnlyList<long>? LayerShape { get; } = null;
              """);
        writer.WriteLine();
        WriteExplainerConstructor(writer, model, layer.ClassName, LayerEngine, "Wrap", "layer: LayerPath, ", "new LayerResult(explanation, LayerPath, LayerShape)");
        writer.CloseBlock();
    }

    private static void WriteExplainerHeader(SourceWriter writer, ModelSpec model, string name, string what, Engine engine, string result)
    {
        writer.WriteLine($"""
            /// <summary>Explains <see cref="{model.ClassName}"/> with {what}.</summary>
            {GeneratedCode}
            """);
        writer.OpenBlock($"public sealed class {name} : global::ShapGen.ModelExplainer<{engine.Type}, {engine.Options}, Batch, {result}>");
    }

    private static void WriteExplainerConstructor(SourceWriter writer, ModelSpec model, string name, Engine engine, string wrap, string layerArgument, string result)
    {
        writer.WriteLine($$"""
            /// <summary>Creates the explainer over a background batch; the engine may keep its tensors without copying them: keep them alive and unchanged while the explainer is in use.</summary>
            /// <param name="model">The model to explain.</param>
            /// <param name="background">Background samples.</param>
            public {{name}}({{model.ClassName}} model, Batch background)
                : base(new {{engine.Type}}(__ShapGen_Meta.{{wrap}}(model), Tensors(background, nameof(background)), {{layerArgument}}labels: __ShapGen_Meta.Info.Labels, inputNames: __ShapGen_Meta.Info.InputNames),
                       static (engine, inputs, options, token) => engine.Explain(inputs, options, token), static explanation => {{result}}) { }
            """);
    }
}
