using System;

namespace ShapGen;

/// <summary>
/// Marks a partial class as the typed API of an ONNX model file: at build time ShapGen reads the model's graph inputs
/// and outputs, and the generator emits, nested in the class, a <c>Batch</c> with one property per ONNX input, the
/// <c>Input</c> and <c>Label</c> enums, <c>Result</c>, the explainers that need only the model's outputs, and
/// <c>ExplainImage</c>. Shapes are checked at compile time; the loaded model's signature is checked at run time.
/// </summary>
/// <remarks>
/// The path is relative to the project. Every <c>*.onnx</c> under the project is read; a file outside it needs a
/// <c>&lt;ShapGenOnnxModel Include="…" /&gt;</c> item. See docs/generator.md.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class ExplainableOnnxAttribute : Attribute
{
    /// <summary>Names the ONNX file whose signature the class takes.</summary>
    /// <param name="path">The .onnx file, relative to the project directory (e.g. <c>"models/net.onnx"</c>).</param>
    public ExplainableOnnxAttribute(string path) => Path = path;

    /// <summary>The .onnx file, relative to the project directory.</summary>
    public string Path { get; }

    /// <summary>
    /// Output labels, one per value of the explained output per sample, in order: a string array (which becomes the
    /// generated <c>Label</c> enum) or <c>typeof(MyEnum)</c>, as for <see cref="ExplainableAttribute.Labels"/>.
    /// </summary>
    public object? Labels { get; set; }

    /// <summary>A user enum whose members, in declaration order, label the outputs (same as <c>Labels = typeof(MyEnum)</c>).</summary>
    public Type? LabelsEnum { get; set; }

    /// <summary>The ONNX output to explain; null takes the model's first output (as <see cref="OnnxModel"/> does).</summary>
    public string? Output { get; set; }
}
