using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace ShapGen.Generators.Diagnostics;

/// <summary>Every diagnostic ShapGen reports; each is documented in docs/diagnostics.md.</summary>
internal static class DiagnosticDescriptors
{
    private const string HelpBase = "https://github.com/shapgen/shapgen/blob/main/docs/diagnostics.md#";

    /// <summary>SHAPGEN001: "'{0}' must be declared partial so that ShapGen can add its typed explainers".</summary>
    public static readonly DiagnosticDescriptor NotPartial = new(
        "SHAPGEN001", "Explainable class must be partial", "'{0}' must be declared partial so that ShapGen can add its typed explainers", "ShapGen.Usage",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen001");

    /// <summary>SHAPGEN002: "'{0}' must derive from TorchSharp's nn.Module&lt;Tensor, …, Tensor&gt; with 1 to 6 tensor inputs".</summary>
    public static readonly DiagnosticDescriptor NotAModule = new(
        "SHAPGEN002", "Explainable class must be a TorchSharp module", "'{0}' must derive from TorchSharp's nn.Module<Tensor, …, Tensor> with 1 to 6 tensor inputs", "ShapGen.Usage",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen002");

    /// <summary>SHAPGEN003: "Parameter '{0}' of '{1}.forward' is of type '{2}'; every forward input must be a TorchSharp Tensor".</summary>
    public static readonly DiagnosticDescriptor InputNotTensor = new(
        "SHAPGEN003", "Forward parameter must be a Tensor", "Parameter '{0}' of '{1}.forward' is of type '{2}'; every forward input must be a TorchSharp Tensor", "ShapGen.Usage",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen003");

    /// <summary>SHAPGEN004: "Parameter '{0}' of '{1}.forward' needs a [Shape(...)] giving its per-sample shape (without the batch dimension)".</summary>
    public static readonly DiagnosticDescriptor MissingShape = new(
        "SHAPGEN004", "Forward parameter lacks [Shape]", "Parameter '{0}' of '{1}.forward' needs a [Shape(...)] giving its per-sample shape (without the batch dimension)", "ShapGen.Usage",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen004");

    /// <summary>SHAPGEN005: "[Shape] of '{0}' has an invalid dimension: {1}".</summary>
    public static readonly DiagnosticDescriptor InvalidDimension = new(
        "SHAPGEN005", "Shape dimensions must be positive constants", "[Shape] of '{0}' has an invalid dimension: {1}", "ShapGen.Usage",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen005");

    /// <summary>SHAPGEN006: "[ExplainLayer("{0}")] names no submodule of '{1}'; known paths: {2}".</summary>
    public static readonly DiagnosticDescriptor UnknownLayer = new(
        "SHAPGEN006", "[ExplainLayer] path names no submodule", "[ExplainLayer(\"{0}\")] names no submodule of '{1}'; known paths: {2}", "ShapGen.Usage",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen006");

    /// <summary>SHAPGEN007: "'{0}' declares {1} label(s) but its output has {2} value(s) per sample".</summary>
    public static readonly DiagnosticDescriptor LabelCountMismatch = new(
        "SHAPGEN007", "Label count differs from the output size", "'{0}' declares {1} label(s) but its output has {2} value(s) per sample", "ShapGen.Usage",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen007");

    /// <summary>SHAPGEN008: "{0} expects {1}, receives {2}".</summary>
    public static readonly DiagnosticDescriptor ShapeMismatch = new(
        "SHAPGEN008", "Shape mismatch in forward", "{0} expects {1}, receives {2}", "ShapGen.Shapes",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen008");

    /// <summary>SHAPGEN009: "forward returns per-sample shape {0}, but [return: Shape] declares {1}".</summary>
    public static readonly DiagnosticDescriptor ReturnShapeMismatch = new(
        "SHAPGEN009", "forward's result does not match [return: Shape]", "forward returns per-sample shape {0}, but [return: Shape] declares {1}", "ShapGen.Shapes",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen009");

    /// <summary>SHAPGEN010: "Argument '{0}' has per-sample shape {1} (full shape {2}), but the model declares [Shape] {3}".</summary>
    public static readonly DiagnosticDescriptor BatchShapeMismatch = new(
        "SHAPGEN010", "Tensor shape does not match the declared input shape", "Argument '{0}' has per-sample shape {1} (full shape {2}), but the model declares [Shape] {3}", "ShapGen.Shapes",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen010");

    /// <summary>SHAPGEN011: "'{0}' cannot be rewritten for DeepLIFT ({1}); DeepExplainer treats it as linear and its attributions may be wrong: use an nn module or a supported function".</summary>
    public static readonly DiagnosticDescriptor FunctionalNotRewritten = new(
        "SHAPGEN011", "Functional nonlinearity is invisible to DeepLIFT", "'{0}' cannot be rewritten for DeepLIFT ({1}); DeepExplainer treats it as linear and its attributions may be wrong: use an nn module or a supported function", "ShapGen.DeepLift",
        DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen011");

    /// <summary>SHAPGEN012: "'{0}.forward(...)' bypasses module hooks that {1} needs; call '{0}.call(...)' instead".</summary>
    public static readonly DiagnosticDescriptor ForwardBypassesHooks = new(
        "SHAPGEN012", "Child module invoked with .forward", "'{0}.forward(...)' bypasses module hooks that {1} needs; call '{0}.call(...)' instead", "ShapGen.Hooks",
        DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen012");

    /// <summary>SHAPGEN013: "'{0}' cannot be made explainable: {1}".</summary>
    public static readonly DiagnosticDescriptor UnsupportedDeclaration = new(
        "SHAPGEN013", "Unsupported explainable declaration", "'{0}' cannot be made explainable: {1}", "ShapGen.Usage",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen013");

    /// <summary>SHAPGEN014: "Labels of '{0}' are invalid: {1}".</summary>
    public static readonly DiagnosticDescriptor InvalidLabels = new(
        "SHAPGEN014", "Invalid labels", "Labels of '{0}' are invalid: {1}", "ShapGen.Usage",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen014");

    /// <summary>SHAPGEN015 (off by default): "Shapes in '{0}' are followed through forward to {1}; {2}".</summary>
    public static readonly DiagnosticDescriptor ShapeCoverage = new(
        "SHAPGEN015", "How far shape inference follows forward", "Shapes in '{0}' are followed through forward to {1}; {2}", "ShapGen.Coverage",
        DiagnosticSeverity.Info, isEnabledByDefault: false, helpLinkUri: HelpBase + "shapgen015");

    /// <summary>SHAPGEN016: "'{0}' requests layer method(s) {1}, which explain an inner layer, but has no [ExplainLayer]: add [ExplainLayer("path")] naming the layer, or drop them from Methods".</summary>
    public static readonly DiagnosticDescriptor LayerMethodWithoutLayer = new(
        "SHAPGEN016", "Layer method without [ExplainLayer]", "'{0}' requests layer method(s) {1}, which explain an inner layer, but has no [ExplainLayer]: add [ExplainLayer(\"path\")] naming the layer, or drop them from Methods", "ShapGen.Usage",
        DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen016");

    /// <summary>SHAPGEN017: "{0} cannot apply to layer '{1}': {2}; no explainer is generated for it".</summary>
    public static readonly DiagnosticDescriptor MethodDoesNotApply = new(
        "SHAPGEN017", "Method cannot apply to the layer", "{0} cannot apply to layer '{1}': {2}; no explainer is generated for it", "ShapGen.Usage",
        DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen017");
    /// <summary>SHAPGEN020: "No ONNX model '{0}' for '{1}': {2}".</summary>
    public static readonly DiagnosticDescriptor OnnxModelNotFound = new(
        "SHAPGEN020", "ONNX model file not found", "No ONNX model '{0}' for '{1}': {2}", "ShapGen.Onnx",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen020");

    /// <summary>SHAPGEN021: "'{0}' is not a readable ONNX model: {1}".</summary>
    public static readonly DiagnosticDescriptor NotAnOnnxModel = new(
        "SHAPGEN021", "Not an ONNX model", "'{0}' is not a readable ONNX model: {1}", "ShapGen.Onnx",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen021");

    /// <summary>SHAPGEN022: "ONNX {0} '{1}' of '{2}' is {3}; typed ONNX models take and explain float32 tensors only".</summary>
    public static readonly DiagnosticDescriptor OnnxNotFloat = new(
        "SHAPGEN022", "ONNX input or output is not a float32 tensor", "ONNX {0} '{1}' of '{2}' is {3}; typed ONNX models take and explain float32 tensors only", "ShapGen.Onnx",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen022");

    /// <summary>SHAPGEN023: "ONNX input '{0}' of '{1}' has dynamic dimensions besides the batch, {2}; its shape is checked at run time only".</summary>
    public static readonly DiagnosticDescriptor OnnxDynamicDimensions = new(
        "SHAPGEN023", "ONNX input has dynamic non-batch dimensions", "ONNX input '{0}' of '{1}' has dynamic dimensions besides the batch, {2}; its shape is checked at run time only", "ShapGen.Onnx",
        DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen023");

    /// <summary>SHAPGEN024: "'{0}' explains ONNX output '{1}', but '{2}' has outputs {3}".</summary>
    public static readonly DiagnosticDescriptor OnnxOutputNotFound = new(
        "SHAPGEN024", "ONNX output not found", "'{0}' explains ONNX output '{1}', but '{2}' has outputs {3}", "ShapGen.Onnx",
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "shapgen024");

    /// <summary>All descriptors, in id order.</summary>
    public static readonly DiagnosticDescriptor[] All =
    {
        NotPartial,
        NotAModule,
        InputNotTensor,
        MissingShape,
        InvalidDimension,
        UnknownLayer,
        LabelCountMismatch,
        ShapeMismatch,
        ReturnShapeMismatch,
        BatchShapeMismatch,
        FunctionalNotRewritten,
        ForwardBypassesHooks,
        UnsupportedDeclaration,
        InvalidLabels,
        ShapeCoverage,
        LayerMethodWithoutLayer,
        MethodDoesNotApply,
        OnnxModelNotFound,
        NotAnOnnxModel,
        OnnxNotFloat,
        OnnxDynamicDimensions,
        OnnxOutputNotFound,
    };

    private static readonly Dictionary<string, DiagnosticDescriptor> ByIdMap = Build();

    /// <summary>The descriptor with the given id.</summary>
    public static DiagnosticDescriptor ById(string id) => ByIdMap[id];

    private static Dictionary<string, DiagnosticDescriptor> Build()
    {
        var map = new Dictionary<string, DiagnosticDescriptor>();
        foreach (var d in All) map[d.Id] = d;
        return map;
    }
}
