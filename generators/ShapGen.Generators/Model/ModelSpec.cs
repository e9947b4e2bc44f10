namespace ShapGen.Generators.Model;

/// <summary>Everything the emitter needs to write one model's generated members; plain values only.</summary>
internal sealed record ModelSpec(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string ClassName,
    string FullyQualifiedName,
    string HintName,
    EquatableArray<InputSpec> Inputs,
    EquatableArray<long> OutputShape,
    int? OutputCount,
    EquatableArray<string> LabelTexts,
    EquatableArray<string> LabelIdentifiers,
    string? LabelsEnumType,
    EquatableArray<LayerSpec> Layers,
    DeepLiftForwardSpec? DeepLiftForward);

/// <summary>A type that encloses the model class (the generated members must be nested in it too).</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>One <c>forward</c> parameter.</summary>
internal sealed record InputSpec(string ParameterName, string PropertyName, EquatableArray<int> Shape);

/// <summary>One <c>[ExplainLayer]</c>: a module path, the generated class name and, when known, the layer input's per-sample shape.</summary>
internal sealed record LayerSpec(string Path, string ClassName, EquatableArray<long> Shape, bool ShapeInferred);

/// <summary>The DeepLIFT variant of <c>forward</c>: usings of the user's file and the rewritten method text.</summary>
internal sealed record DeepLiftForwardSpec(EquatableArray<string> Usings, string ReturnType, string Parameters, string Body);
