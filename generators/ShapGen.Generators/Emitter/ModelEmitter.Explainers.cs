using System.Linq;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Emitter;

internal static partial class ModelEmitter
{
    /// <summary>What an engine compares each sample with, which decides the facade's constructor and base type.</summary>
    private enum Reference
    {
        /// <summary>A background batch given to the constructor (shap's explainers).</summary>
        Background,

        /// <summary>Baselines given to <c>Explain</c> (zeros when omitted): <c>BaselineModelExplainer</c>.</summary>
        Baselines,

        /// <summary>Nothing: the method needs only the explained inputs (or takes its references from its options).</summary>
        None,
    }

    /// <summary>
    /// One method the typed API offers: its <c>ExplainMethods</c> bit, the runtime engine and options (in the
    /// <c>ShapGen</c> namespace), what it computes, what it compares with, whether it runs the DeepLIFT forward and
    /// whether its options may be omitted. Layer methods have a name suffix after the layer's stem (null: the layer's
    /// own class name, the expected-gradients explainer).
    /// </summary>
    private sealed record Method(int Bit, string Name, string OptionsName, string What, Reference Reference,
                                 bool DeepLiftForward = false, bool OptionsRequired = false, string? LayerSuffix = null)
    {
        public string Type => "global::ShapGen." + Name;

        public string Options => "global::ShapGen." + OptionsName;
    }

    private static readonly Method[] InputMethods =
    {
        new(MethodSet.GradientExplainer, "GradientExplainer", "GradientExplainOptions", "expected gradients (shap's GradientExplainer)", Reference.Background),
        new(MethodSet.DeepExplainer, "DeepExplainer", "DeepExplainOptions", "DeepLIFT-SHAP (shap's DeepExplainer)", Reference.Background, DeepLiftForward: true),
        new(MethodSet.KernelExplainer, "KernelExplainer", "KernelExplainOptions", "KernelSHAP (shap's KernelExplainer)", Reference.Background),
        new(MethodSet.Saliency, "Saliency", "SaliencyOptions", "saliency, |∂f/∂x| (Captum's Saliency)", Reference.None),
        new(MethodSet.InputXGradient, "InputXGradient", "GradientMethodOptions", "input × gradient (Captum's InputXGradient)", Reference.None),
        new(MethodSet.IntegratedGradients, "IntegratedGradients", "IntegratedGradientsOptions", "integrated gradients (Captum's IntegratedGradients)", Reference.Baselines),
        new(MethodSet.DeepLift, "DeepLift", "DeepExplainOptions", "DeepLIFT against one baseline (Captum's DeepLift)", Reference.Baselines, DeepLiftForward: true),
        new(MethodSet.FeatureAblation, "FeatureAblation", "FeatureAblationOptions", "feature ablation (Captum's FeatureAblation)", Reference.None),
        new(MethodSet.Occlusion, "Occlusion", "OcclusionOptions", "occlusion by sliding windows (Captum's Occlusion; the options give the window)", Reference.None, OptionsRequired: true),
        new(MethodSet.ShapleyValueSampling, "ShapleyValueSampling", "ShapleyValueSamplingOptions", "Shapley value sampling (Captum's ShapleyValueSampling)", Reference.None),
        new(MethodSet.Rise, "Rise", "RiseOptions", "RISE, randomized input sampling (DIANNA's RISE)", Reference.None),
        new(MethodSet.Lime, "Lime", "LimeOptions", "LIME (Captum's Lime)", Reference.None),
        new(MethodSet.Partition, "Partition", "PartitionOptions", "Owen values over a feature hierarchy (shap's PartitionExplainer)", Reference.None),
    };

    private static readonly Method[] LayerMethods =
    {
        new(MethodSet.LayerGradientExplainer, "GradientExplainer", "GradientExplainOptions", "expected gradients for the input of layer", Reference.Background),
        new(MethodSet.LayerIntegratedGradients, "LayerIntegratedGradients", "IntegratedGradientsOptions", "integrated gradients for the output of layer", Reference.Baselines, LayerSuffix: "IntegratedGradients"),
        new(MethodSet.LayerConductance, "LayerConductance", "LayerConductanceOptions", "conductance (Captum's LayerConductance) through the output of layer", Reference.Baselines, LayerSuffix: "Conductance"),
        new(MethodSet.GradCam, "GradCam", "GradCamOptions", "Grad-CAM (Captum's LayerGradCam) on the output of layer", Reference.None, LayerSuffix: "GradCam"),
    };

    private static void WriteExplainer(SourceWriter writer, ModelSpec model, Method method)
    {
        bool rewritten = method.DeepLiftForward && model.DeepLiftForward is not null;
        string what = rewritten ? method.What + "; functional nonlinearities in forward go through the generated DeepLIFT forward" : method.What;
        WriteExplainerHeader(writer, model, method.Name, what, method, "Result");
        WriteExplainerConstructor(writer, model, method.Name, method, rewritten ? "WrapDeepLift" : "Wrap", "", "new Result(explanation)");
        writer.CloseBlock();
    }

    private static void WriteLayerExplainer(SourceWriter writer, ModelSpec model, LayerSpec layer, Method method)
    {
        string name = method.LayerSuffix is null ? layer.ClassName : layer.NameStem + method.LayerSuffix;
        WriteExplainerHeader(writer, model, name, $"{method.What} '{Xml(layer.Path)}'", method, "LayerResult");
        writer.WriteLine($"""
            /// <summary>The explained layer's module path.</summary>
            public const string LayerPath = {Literal(layer.Path)};

            """);
        string shape = "null";
        if (method.Bit == MethodSet.LayerGradientExplainer)
        {
            writer.WriteLine(layer.Shape is { } known
                ? $$"""
                  /// <summary>The layer input's per-sample shape {{Shape(known)}} (checked on every result).</summary>
                  public static global::System.Collections.Generic.IReadOnlyList<long>? LayerShape { get; } = new long[] { {{Dims(known)}} };
                  """
                : """
                  /// <summary>The layer input's per-sample shape: unknown at compile time (set ExplainLayer's Shape to check it).</summary>
                  public static global::System.Collections.Generic.IReadOnlyList<long>? LayerShape { get; } = null;
                  """);
            writer.WriteLine();
            shape = "LayerShape";
        }
        WriteExplainerConstructor(writer, model, name, method, "Wrap", "layer: LayerPath, ", $"new LayerResult(explanation, LayerPath, {shape})");
        writer.CloseBlock();
    }

    private static void WriteExplainerHeader(SourceWriter writer, ModelSpec model, string name, string what, Method method, string result)
    {
        string baseType = method.Reference == Reference.Baselines ? "BaselineModelExplainer" : "ModelExplainer";
        writer.WriteLine($"""
            /// <summary>Explains <see cref="{model.ClassName}"/> with {what}.</summary>
            {GeneratedCode}
            """);
        writer.OpenBlock($"public sealed class {name} : global::ShapGen.{baseType}<{method.Type}, {method.Options}, Batch, {result}>");
    }

    private static void WriteExplainerConstructor(SourceWriter writer, ModelSpec model, string name, Method method, string wrap, string layerArgument, string result)
    {
        string explain = method.Reference == Reference.Baselines
            ? "static (engine, inputs, baselines, options, token) => engine.Explain(inputs, baselines, options, token)"
            : $"static (engine, inputs, options, token) => engine.Explain(inputs, options{(method.OptionsRequired ? "!" : "")}, token)";
        if (method.Reference == Reference.Background)
            writer.WriteLine($$"""
                /// <summary>Creates the explainer over a background batch; the engine may keep its tensors without copying them: keep them alive and unchanged while the explainer is in use.</summary>
                /// <param name="model">The model to explain.</param>
                /// <param name="background">Background samples.</param>
                public {{name}}({{model.ClassName}} model, Batch background)
                    : base(new {{method.Type}}(__ShapGen_Meta.{{wrap}}(model), Tensors(background, nameof(background)), {{layerArgument}}labels: __ShapGen_Meta.Info.Labels, inputNames: __ShapGen_Meta.Info.InputNames),
                           {{explain}}, static explanation => {{result}}) { }
                """);
        else
            writer.WriteLine($$"""
                /// <summary>Creates the explainer{{(method.Reference == Reference.Baselines ? "; Explain takes baselines as a Batch of one row (shared) or one row per sample, zeros when omitted" : "")}}.</summary>
                /// <param name="model">The model to explain.</param>
                public {{name}}({{model.ClassName}} model)
                    : base(new {{method.Type}}(__ShapGen_Meta.{{wrap}}(model), {{layerArgument}}labels: __ShapGen_Meta.Info.Labels, inputNames: __ShapGen_Meta.Info.InputNames),
                           {{explain}}, static explanation => {{result}}) { }
                """);
    }
}
