using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using ShapGen.Generators.Diagnostics;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Parser;

internal static partial class ModelParser
{
    /// <summary>A <c>Methods</c> argument: the set, and whether the user wrote it (explicit requests get diagnostics).</summary>
    private readonly record struct RequestedMethods(MethodSet Set, bool Explicit);

    private static readonly (int Bit, string Name)[] LayerMethodNames =
    {
        (MethodSet.LayerGradientExplainer, "LayerGradientExplainer"),
        (MethodSet.LayerIntegratedGradients, "LayerIntegratedGradients"),
        (MethodSet.LayerConductance, "LayerConductance"),
        (MethodSet.GradCam, "GradCam"),
    };

    /// <summary>The <c>Methods</c> named argument of an attribute, or <paramref name="fallback"/> when it is not written.</summary>
    private static RequestedMethods ReadMethods(AttributeData? attribute, int fallback) =>
        attribute?.NamedArguments.FirstOrDefault(a => a.Key == "Methods").Value is { Value: int bits }
            ? new RequestedMethods(new MethodSet(bits), Explicit: true)
            : new RequestedMethods(new MethodSet(fallback), Explicit: false);

    /// <summary>
    /// The layer methods to emit for one layer: its own <c>Methods</c> if written, else the class's. Grad-CAM is dropped
    /// where the layer's output is known not to be [C, H, W] (with SHAPGEN017 if it was asked for by name); input
    /// methods named on a layer are reported and ignored.
    /// </summary>
    private static MethodSet LayerMethods(AttributeData layerAttribute, string path, long[]? output, RequestedMethods classMethods,
                                          Location where, List<DiagnosticInfo> diagnostics)
    {
        var own = ReadMethods(layerAttribute, MethodSet.AllLayerMethods);
        var requested = own.Explicit ? own : classMethods;
        if (own.Explicit && own.Set.Bits != (MethodSet.AllInputMethods | MethodSet.AllLayerMethods) && (own.Set.Bits & MethodSet.AllInputMethods) != 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MethodDoesNotApply, where, "An input method in Methods", path,
                "[ExplainLayer(Methods = …)] takes only layer methods (LayerGradientExplainer, LayerIntegratedGradients, LayerConductance, GradCam); name input methods on [Explainable]"));
        var set = new MethodSet(requested.Set.Bits & MethodSet.AllLayerMethods);
        if (set.Has(MethodSet.GradCam) && output is not null && output.Length != 3)
        {
            if (requested.Explicit)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MethodDoesNotApply, where, "GradCam", path,
                    $"Grad-CAM needs a layer whose output is [C, H, W] per sample (a convolution), and this one returns per-sample {ShapeText.Sample(output)}"));
            set = set.Without(MethodSet.GradCam);
        }
        return set;
    }

    /// <summary>SHAPGEN016 when the class names layer methods but has no <c>[ExplainLayer]</c> to apply them to.</summary>
    private static void CheckLayerMethodsHaveLayers(string name, RequestedMethods classMethods, int layerCount, Location where, List<DiagnosticInfo> diagnostics)
    {
        if (!classMethods.Explicit || layerCount > 0) return;
        var names = LayerMethodNames.Where(m => classMethods.Set.Has(m.Bit)).Select(m => m.Name).ToList();
        if (names.Count > 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerMethodWithoutLayer, where, name, string.Join(", ", names)));
    }
}
