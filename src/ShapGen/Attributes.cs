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
}
