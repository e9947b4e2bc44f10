namespace ShapGen.Generators.Model;

/// <summary>Everything the emitter needs to write one model's generated members; plain values only.</summary>
internal sealed record ModelSpec(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string ClassName,
    string HintName,
    EquatableArray<InputSpec> Inputs,
    ShapeSpec? OutputShape,
    int? OutputCount,
    LabelSpec? Labels,
    EquatableArray<LayerSpec> Layers,
    DeepLiftForwardSpec? DeepLiftForward,
    MethodSet Methods = default);

/// <summary>A type that encloses the model class (the generated members must be nested in it too).</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>One <c>forward</c> parameter.</summary>
internal sealed record InputSpec(string ParameterName, string PropertyName, ShapeSpec Shape);

/// <summary>
/// One <c>[ExplainLayer]</c>: a module path, the name of its expected-gradients explainer and the stem of its other
/// explainers' names, the layer's per-sample input and output shapes when known, and the layer methods to emit.
/// </summary>
internal sealed record LayerSpec(string Path, string ClassName, string NameStem, ShapeSpec? Shape, ShapeSpec? OutputShape, MethodSet Methods);

/// <summary>
/// The model's output labels in output order: the enum to use (the user's, <c>global::</c>-qualified, or null for
/// the generated <c>Label</c>) and, per output, its text and enum member.
/// </summary>
internal sealed record LabelSpec(string? UserEnumType, EquatableArray<LabelMember> Members);

/// <summary>One output label: its text (what the engines and plots show) and its enum member name.</summary>
internal sealed record LabelMember(string Text, string Identifier);

/// <summary>The DeepLIFT variant of <c>forward</c>: usings of the user's file and the rewritten method text.</summary>
internal sealed record DeepLiftForwardSpec(EquatableArray<string> Usings, string ReturnType, string Parameters, string Body);
