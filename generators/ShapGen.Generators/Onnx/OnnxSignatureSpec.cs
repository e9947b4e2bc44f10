using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ShapGen.Generators.Model;

namespace ShapGen.Generators.Onnx;

/// <summary>A graph input or output as the build step extracted it: element type (1 = float32) and dimensions (−1 dynamic), or no shape.</summary>
internal sealed record OnnxValueSpec(string Name, int ElementType, bool HasShape, EquatableArray<long> Dims);

/// <summary>
/// One extracted signature file (src/ShapGen.Onnx/build/OnnxSignature.cs writes it): the model path relative to the
/// project, and either its inputs and outputs or why it could not be read (<c>notfound</c> or <c>invalid</c>).
/// </summary>
internal sealed record OnnxSignatureSpec(string Path, string? ErrorKind, string? Error, EquatableArray<OnnxValueSpec> Inputs, EquatableArray<OnnxValueSpec> Outputs)
{
    /// <summary>File name extension of the signature files among the additional files.</summary>
    public const string Extension = ".shapgen-onnx";

    private const string Header = "shapgen-onnx-signature\t1";

    /// <summary>Reads a signature text; null when it is not one (another tool's file). Never throws.</summary>
    public static OnnxSignatureSpec? Parse(string? text)
    {
        if (text is null) return null;
        var lines = text.Replace("\r\n", "\n").Split('\n');
        if (lines.Length < 2 || lines[0] != Header || !lines[1].StartsWith("path\t", StringComparison.Ordinal)) return null;
        string path = OnnxPaths.Normalize(lines[1].Substring(5));
        var inputs = new List<OnnxValueSpec>();
        var outputs = new List<OnnxValueSpec>();
        for (int i = 2; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var parts = lines[i].Split(new[] { '\t' }, 4);
            if (parts[0] == "error" && parts.Length >= 3)
                return new OnnxSignatureSpec(path, parts[1], parts.Length == 4 ? parts[2] + "\t" + parts[3] : parts[2], EquatableArray<OnnxValueSpec>.Empty, EquatableArray<OnnxValueSpec>.Empty);
            if (parts.Length != 4 || parts[0] is not ("input" or "output") || Value(parts) is not { } value)
                return Malformed(path, i);
            (parts[0] == "input" ? inputs : outputs).Add(value);
        }
        return new OnnxSignatureSpec(path, null, null, inputs.ToEquatableArray(), outputs.ToEquatableArray());
    }

    private static OnnxSignatureSpec Malformed(string path, int line) =>
        new(path, "invalid", "its extracted signature is malformed at line " + (line + 1).ToString(CultureInfo.InvariantCulture) + " (rebuild to extract it again)",
            EquatableArray<OnnxValueSpec>.Empty, EquatableArray<OnnxValueSpec>.Empty);

    private static OnnxValueSpec? Value(string[] parts)
    {
        if (!int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int elementType) || parts[3].Length == 0) return null;
        if (parts[2] == "*") return new OnnxValueSpec(parts[3], elementType, false, EquatableArray<long>.Empty);
        if (parts[2] == "-") return new OnnxValueSpec(parts[3], elementType, true, EquatableArray<long>.Empty);
        var dims = new List<long>();
        foreach (var d in parts[2].Split(','))
        {
            if (d == "?") dims.Add(-1);
            else if (long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v > 0 && dims.Count < 64) dims.Add(v);
            else return null;
        }
        return new OnnxValueSpec(parts[3], elementType, true, dims.ToEquatableArray());
    }
}

/// <summary>Model paths as the attribute and the build step write them, compared after one normalisation.</summary>
internal static class OnnxPaths
{
    /// <summary>'/' separators, no '.' or empty segments, '..' folded into the segment before it.</summary>
    public static string Normalize(string path)
    {
        var segments = new List<string>();
        foreach (var segment in path.Replace('\\', '/').Split('/'))
        {
            if (segment.Length == 0 || segment == ".") continue;
            if (segment == ".." && segments.Count > 0 && segments[segments.Count - 1] != "..") segments.RemoveAt(segments.Count - 1);
            else segments.Add(segment);
        }
        return string.Join("/", segments);
    }
}

/// <summary>ONNX element types by TensorProto.DataType number, for messages.</summary>
internal static class OnnxElementTypes
{
    public const int Float = 1;

    private static readonly string[] Names =
    {
        "not a tensor", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64", "string", "bool", "float16",
        "float64", "uint32", "uint64", "complex64", "complex128", "bfloat16",
    };

    public static string Name(int elementType) =>
        elementType >= 0 && elementType < Names.Length ? Names[elementType] : "element type " + elementType.ToString(CultureInfo.InvariantCulture);
}
