using ShapGen.Generators.Model;

namespace ShapGen.Generators.Onnx;

/// <summary>
/// What <c>[ExplainableOnnx]</c> on one class says, before the model file's signature is known: the class, the model
/// path, the output to explain, its labels, where the attribute is (for diagnostics) and the diagnostics so far.
/// </summary>
internal sealed record OnnxClassSpec(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string ClassName,
    string HintName,
    string DeclaredPath,
    string? OutputName,
    LabelSpec? Labels,
    LocationInfo? AttributeLocation,
    EquatableArray<DiagnosticInfo> Diagnostics,
    bool Ok);

/// <summary>
/// One typed ONNX class to emit: the shared model shape (inputs as <see cref="InputSpec"/>s, labels) that the
/// TorchSharp emitter's writers print too, the ONNX names and full shapes for the runtime signature check, and the
/// image entry's layout when the model takes one image.
/// </summary>
internal sealed record OnnxModelSpec(
    ModelSpec Model,
    string ModelPath,
    EquatableArray<string> InputNames,
    EquatableArray<ShapeSpec> InputShapes,
    string OutputName,
    ShapeSpec OutputShape,
    bool ImageChannelsLast,
    bool HasImageEntry);

/// <summary>The outcome of matching a class to its signature: the model to emit (null on errors) and diagnostics.</summary>
internal sealed record OnnxParseResult(OnnxModelSpec? Model, EquatableArray<DiagnosticInfo> Diagnostics);
