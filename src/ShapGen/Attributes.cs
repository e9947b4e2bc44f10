using System;

namespace ShapGen;

/// <summary>
/// Marks a partial TorchSharp <c>nn.Module&lt;…&gt;</c> class whose <c>forward</c> takes 1–6 tensors: the ShapGen
/// source generator emits typed explainers, a <c>Batch</c> input type and typed results nested in it.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class ExplainableAttribute : Attribute
{
    /// <summary>
    /// Output labels, one per model output, in output order: a string array (<c>Labels = new[] { "cat", "dog" }</c>,
    /// which becomes the generated <c>Label</c> enum) or a user enum (<c>Labels = typeof(MyEnum)</c>, whose members in
    /// declaration order label the outputs). Anything else is compile error SHAPGEN014.
    /// </summary>
    public object? Labels { get; set; }

    /// <summary>A user enum whose members, in declaration order, label the model outputs (same as <c>Labels = typeof(MyEnum)</c>).</summary>
    public Type? LabelsEnum { get; set; }

    /// <summary>
    /// The methods to generate typed explainers for (default <see cref="ExplainMethods.All"/>). Input methods get one
    /// nested explainer each; layer methods get one per <c>[ExplainLayer]</c> layer they apply to. Naming a layer method
    /// without any <c>[ExplainLayer]</c>, or Grad-CAM for a layer whose output is not [C, H, W], is a SHAPGEN diagnostic.
    /// </summary>
    public ExplainMethods Methods { get; set; } = ExplainMethods.All;
}

/// <summary>The explanation methods the generator can emit typed explainers for (flags).</summary>
[Flags]
public enum ExplainMethods
{
    /// <summary>No method.</summary>
    None = 0,

    /// <summary>Expected gradients (shap's <c>GradientExplainer</c>).</summary>
    GradientExplainer = 1 << 0,

    /// <summary>DeepLIFT-SHAP (shap's <c>DeepExplainer</c>).</summary>
    DeepExplainer = 1 << 1,

    /// <summary>KernelSHAP (shap's <c>KernelExplainer</c>).</summary>
    KernelExplainer = 1 << 2,

    /// <summary>Captum's <c>Saliency</c>.</summary>
    Saliency = 1 << 3,

    /// <summary>Captum's <c>InputXGradient</c>.</summary>
    InputXGradient = 1 << 4,

    /// <summary>Captum's <c>IntegratedGradients</c>.</summary>
    IntegratedGradients = 1 << 5,

    /// <summary>Captum's <c>DeepLift</c> (one baseline).</summary>
    DeepLift = 1 << 6,

    /// <summary>Captum's <c>FeatureAblation</c>.</summary>
    FeatureAblation = 1 << 7,

    /// <summary>Captum's <c>Occlusion</c>.</summary>
    Occlusion = 1 << 8,

    /// <summary>Captum's <c>ShapleyValueSampling</c>.</summary>
    ShapleyValueSampling = 1 << 9,

    /// <summary>RISE, randomized input sampling (DIANNA's default image method).</summary>
    Rise = 1 << 10,

    /// <summary>LIME (Captum's <c>Lime</c>).</summary>
    Lime = 1 << 11,

    /// <summary>shap's <c>PartitionExplainer</c> (Owen values over a feature hierarchy).</summary>
    Partition = 1 << 12,

    /// <summary>Every method on the model's inputs.</summary>
    AllInputMethods = (1 << 13) - 1,

    /// <summary>Layer method: expected gradients for the layer's input (shap's <c>(model, layer)</c> form).</summary>
    LayerGradientExplainer = 1 << 16,

    /// <summary>Layer method: Captum's <c>LayerIntegratedGradients</c>.</summary>
    LayerIntegratedGradients = 1 << 17,

    /// <summary>Layer method: Captum's <c>LayerConductance</c>.</summary>
    LayerConductance = 1 << 18,

    /// <summary>Layer method: Captum's <c>LayerGradCam</c> (layers whose output is [C, H, W]).</summary>
    GradCam = 1 << 19,

    /// <summary>Every layer method.</summary>
    AllLayerMethods = LayerGradientExplainer | LayerIntegratedGradients | LayerConductance | GradCam,

    /// <summary>Every method (the default).</summary>
    All = AllInputMethods | AllLayerMethods,
}

/// <summary>
/// The per-sample shape of a <c>forward</c> parameter or (with <c>[return: Shape]</c>) of its output; the batch
/// dimension is implicit.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.ReturnValue, Inherited = false, AllowMultiple = false)]
public sealed class ShapeAttribute : Attribute
{
    /// <summary>Declares the per-sample dimensions.</summary>
    /// <param name="dimensions">Positive sizes, outermost first, without the batch dimension.</param>
    public ShapeAttribute(params int[] dimensions) => Dimensions = dimensions;

    /// <summary>The per-sample dimensions.</summary>
    public int[] Dimensions { get; }
}

/// <summary>
/// Requests a typed explainer for the input of an inner layer (shap's <c>(model, layer)</c> form), named by its
/// module path as <c>named_modules()</c> spells it (e.g. <c>"features.7"</c>) or by <c>nameof</c> a field.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = true)]
public sealed class ExplainLayerAttribute : Attribute
{
    /// <summary>Requests an explainer for the input of the module at <paramref name="path"/>.</summary>
    /// <param name="path">Module path as in <c>named_modules()</c>.</param>
    public ExplainLayerAttribute(string path) => Path = path;

    /// <summary>Module path as in <c>named_modules()</c>.</summary>
    public string Path { get; }

    /// <summary>Name of the generated explainer class; defaults to one derived from <see cref="Path"/>.</summary>
    public string? Name { get; set; }

    /// <summary>Per-sample shape of the layer input, when the generator cannot infer it; checked at run time.</summary>
    public int[]? Shape { get; set; }

    /// <summary>
    /// The layer methods to generate for this layer (only the layer flags count); unset, those of
    /// <see cref="ExplainableAttribute.Methods"/> that apply to the layer (Grad-CAM only where its output is not known to
    /// be other than [C, H, W]).
    /// </summary>
    public ExplainMethods Methods { get; set; } = ExplainMethods.AllLayerMethods;
}
