// Compiled by MSBuild's RoslynCodeTaskFactory from ShapGen.Onnx.targets (keep it one file, no package references,
// C# that a netstandard2.0 reference set compiles: no records, no init), and into the test projects with
// SHAPGEN_ONNX_READER_ONLY defined, which leaves out the MSBuild task.
#nullable enable
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
#if !SHAPGEN_ONNX_READER_ONLY
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
#endif

namespace ShapGen.OnnxBuild
{
    /// <summary>A graph input or output: name, ONNX element type (1 = float32) and dimensions (−1 = dynamic); null dims = no shape given.</summary>
    internal sealed class OnnxValueInfo
    {
        public OnnxValueInfo(string name, int elementType, long[]? dims)
        {
            Name = name;
            ElementType = elementType;
            Dims = dims;
        }

        public string Name { get; }

        /// <summary>TensorProto.DataType (1 float, 11 double, 7 int64, …); 0 when the value is not a tensor.</summary>
        public int ElementType { get; }

        public long[]? Dims { get; }
    }

    /// <summary>A model's graph inputs (initializers excluded, as ONNX Runtime lists them) and outputs.</summary>
    internal sealed class OnnxGraphSignature
    {
        public OnnxGraphSignature(IReadOnlyList<OnnxValueInfo> inputs, IReadOnlyList<OnnxValueInfo> outputs)
        {
            Inputs = inputs;
            Outputs = outputs;
        }

        public IReadOnlyList<OnnxValueInfo> Inputs { get; }

        public IReadOnlyList<OnnxValueInfo> Outputs { get; }
    }

    /// <summary>The bytes are not an ONNX model this reader can follow; the message says where and why.</summary>
    internal sealed class OnnxFormatException : Exception
    {
        public OnnxFormatException(string message) : base(message) { }
    }

    /// <summary>
    /// Reads only what ShapGen needs from an ONNX file — ModelProto.graph → GraphProto.input/output/initializer names →
    /// ValueInfoProto → TypeProto.Tensor (elem_type, shape) — straight from the protobuf wire format. Everything else
    /// is skipped by seeking, so a model with gigabytes of weights costs a few reads. Any length that runs past its
    /// enclosing message, an over-long varint, a wire type protobuf does not define, or a missing graph is an
    /// <see cref="OnnxFormatException"/>; nothing larger than <see cref="MaxSmallMessage"/> is ever allocated.
    /// </summary>
    internal static class OnnxSignatureReader
    {
        /// <summary>The largest ValueInfoProto or name read into memory (a real one is a few hundred bytes).</summary>
        public const int MaxSmallMessage = 1 << 20;

        private const int MaxValues = 100_000;
        private const int MaxRank = 64;

        /// <summary>Reads the signature of the model in <paramref name="stream"/> (seekable).</summary>
        public static OnnxGraphSignature Read(Stream stream)
        {
            if (stream.Length == 0) throw new OnnxFormatException("the file is empty");
            var wire = new Wire(stream);
            long? irVersion = null;
            (long Start, long End)? graph = null;
            long end = stream.Length;
            while (wire.Position < end)
            {
                var (field, type) = wire.Tag(end, "ModelProto");
                if (field == 1 && type == 0) irVersion = wire.Varint(end, "ModelProto.ir_version");
                else if (field == 7 && type == 2)
                {
                    graph = wire.Sub(end, "ModelProto.graph");
                    wire.Position = graph.Value.End;
                }
                else wire.Skip(type, end, "ModelProto field " + field);
            }
            if (irVersion is null || irVersion <= 0) throw new OnnxFormatException("no ModelProto.ir_version: this is not an ONNX model");
            if (graph is null) throw new OnnxFormatException("no ModelProto.graph: this is not an ONNX model");
            return ReadGraph(wire, graph.Value.Start, graph.Value.End);
        }

        /// <summary>Reads the signature of the file at <paramref name="path"/>.</summary>
        public static OnnxGraphSignature Read(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
            return Read(stream);
        }

        private static OnnxGraphSignature ReadGraph(Wire wire, long start, long end)
        {
            var inputs = new List<byte[]>();
            var outputs = new List<byte[]>();
            var initializers = new HashSet<string>(StringComparer.Ordinal);
            wire.Position = start;
            while (wire.Position < end)
            {
                var (field, type) = wire.Tag(end, "GraphProto");
                if (field == 11 && type == 2) Add(inputs, wire.Bytes(end, "GraphProto.input"));
                else if (field == 12 && type == 2) Add(outputs, wire.Bytes(end, "GraphProto.output"));
                else if (field == 5 && type == 2)
                {
                    var (s, e) = wire.Sub(end, "GraphProto.initializer");
                    if (TensorName(wire, s, e) is { } name) initializers.Add(name);
                }
                else wire.Skip(type, end, "GraphProto field " + field);
            }
            if (outputs.Count == 0) throw new OnnxFormatException("the graph has no outputs");
            var inputInfos = inputs.Select(b => ValueInfo(b, "GraphProto.input")).Where(v => !initializers.Contains(v.Name)).ToList();
            return new OnnxGraphSignature(inputInfos, outputs.Select(b => ValueInfo(b, "GraphProto.output")).ToList());
        }

        private static void Add(List<byte[]> list, byte[] item)
        {
            if (list.Count >= MaxValues) throw new OnnxFormatException($"the graph declares more than {MaxValues} inputs or outputs");
            list.Add(item);
        }

        private static string? TensorName(Wire wire, long start, long end)
        {
            wire.Position = start;
            string? name = null;
            while (wire.Position < end)
            {
                var (field, type) = wire.Tag(end, "TensorProto");
                if (field == 8 && type == 2) name = Utf8(wire.Bytes(end, "TensorProto.name"));
                else wire.Skip(type, end, "TensorProto field " + field);
            }
            return name;
        }

        private static OnnxValueInfo ValueInfo(byte[] bytes, string what)
        {
            var wire = new Wire(new MemoryStream(bytes, writable: false));
            long end = bytes.Length;
            string? name = null;
            int elementType = 0;
            long[]? dims = null;
            while (wire.Position < end)
            {
                var (field, type) = wire.Tag(end, what);
                if (field == 1 && type == 2) name = Utf8(wire.Bytes(end, what + ".name"));
                else if (field == 2 && type == 2)
                {
                    var (_, e) = wire.Sub(end, what + ".type");
                    while (wire.Position < e)
                    {
                        var (f, t) = wire.Tag(e, "TypeProto");
                        if (f == 1 && t == 2)
                        {
                            var (_, te) = wire.Sub(e, "TypeProto.tensor_type");
                            (elementType, dims) = TensorType(wire, te);
                        }
                        else wire.Skip(t, e, "TypeProto field " + f);
                    }
                }
                else wire.Skip(type, end, what + " field " + field);
            }
            if (string.IsNullOrEmpty(name)) throw new OnnxFormatException($"a {what} has no name");
            return new OnnxValueInfo(name!, elementType, dims);
        }

        private static (int ElementType, long[]? Dims) TensorType(Wire wire, long end)
        {
            int elementType = 0;
            long[]? dims = null;
            while (wire.Position < end)
            {
                var (field, type) = wire.Tag(end, "TypeProto.Tensor");
                if (field == 1 && type == 0)
                {
                    long v = wire.Varint(end, "TypeProto.Tensor.elem_type");
                    elementType = v is > 0 and <= int.MaxValue ? (int)v : -1;
                }
                else if (field == 2 && type == 2)
                {
                    var (_, e) = wire.Sub(end, "TypeProto.Tensor.shape");
                    var list = new List<long>();
                    while (wire.Position < e)
                    {
                        var (f, t) = wire.Tag(e, "TensorShapeProto");
                        if (f == 1 && t == 2)
                        {
                            if (list.Count >= MaxRank) throw new OnnxFormatException($"a tensor shape has more than {MaxRank} dimensions");
                            var (_, de) = wire.Sub(e, "TensorShapeProto.dim");
                            long dim = -1;
                            while (wire.Position < de)
                            {
                                var (df, dt) = wire.Tag(de, "Dimension");
                                if (df == 1 && dt == 0)
                                {
                                    long v = wire.Varint(de, "Dimension.dim_value");
                                    dim = v > 0 ? v : -1;
                                }
                                else wire.Skip(dt, de, "Dimension field " + df);
                            }
                            list.Add(dim);
                        }
                        else wire.Skip(t, e, "TensorShapeProto field " + f);
                    }
                    dims = list.ToArray();
                }
                else wire.Skip(type, end, "TypeProto.Tensor field " + field);
            }
            return (elementType, dims);
        }

        private static string Utf8(byte[] bytes) => new UTF8Encoding(false, false).GetString(bytes);

        /// <summary>Protobuf wire format over a seekable stream; every read is bounded by the enclosing message's end.</summary>
        private sealed class Wire
        {
            private readonly Stream _stream;

            public Wire(Stream stream) => _stream = stream;

            public long Position
            {
                get => _stream.Position;
                set => _stream.Position = value;
            }

            public (int Field, int WireType) Tag(long end, string what)
            {
                long tag = Varint(end, what + " tag");
                long field = tag >> 3;
                if (field < 1 || field > 536_870_911) throw new OnnxFormatException($"{what}: invalid field number {field} at byte {Position}");
                return ((int)field, (int)(tag & 7));
            }

            public long Varint(long end, string what)
            {
                ulong value = 0;
                for (int shift = 0; shift < 70; shift += 7)
                {
                    if (Position >= end) throw Truncated(what);
                    int b = _stream.ReadByte();
                    if (b < 0) throw Truncated(what);
                    if (shift == 63 && (b & 0x7E) != 0) throw new OnnxFormatException($"{what}: varint overflows 64 bits at byte {Position}");
                    value |= (ulong)(b & 0x7F) << shift;
                    if ((b & 0x80) == 0) return unchecked((long)value);
                }
                throw new OnnxFormatException($"{what}: varint longer than 10 bytes at byte {Position}");
            }

            /// <summary>A length-delimited field's bounds; the position stays at its start (read it to its end, or skip it).</summary>
            public (long Start, long End) Sub(long end, string what)
            {
                long length = Varint(end, what + " length");
                long start = Position;
                if (length < 0 || length > end - start)
                    throw new OnnxFormatException($"{what} declares {unchecked((ulong)length)} bytes at byte {start} but only {end - start} remain in its enclosing message (truncated or corrupt file)");
                return (start, start + length);
            }

            public byte[] Bytes(long end, string what)
            {
                var (start, stop) = Sub(end, what);
                long length = stop - start;
                if (length > MaxSmallMessage) throw new OnnxFormatException($"{what} is {length} bytes; more than the {MaxSmallMessage} a name or value description may take");
                var bytes = new byte[length];
                int read = 0;
                while (read < bytes.Length)
                {
                    int n = _stream.Read(bytes, read, bytes.Length - read);
                    if (n <= 0) throw Truncated(what);
                    read += n;
                }
                return bytes;
            }

            public void Skip(int wireType, long end, string what)
            {
                long skip = wireType switch
                {
                    0 => -1,
                    1 => 8,
                    5 => 4,
                    2 => -2,
                    _ => throw new OnnxFormatException($"{what}: wire type {wireType} at byte {Position} is not one ONNX uses (not an ONNX model)"),
                };
                if (skip == -1) Varint(end, what);
                else if (skip == -2) Position = Sub(end, what).End;
                else
                {
                    if (end - Position < skip) throw Truncated(what);
                    Position += skip;
                }
            }

            private OnnxFormatException Truncated(string what) =>
                new($"{what}: the data ends at byte {Position} in the middle of a field (truncated file)");
        }
    }

    /// <summary>
    /// The small text file the build writes per ONNX model and the generator reads as an additional file
    /// (tab-separated; the name comes last so it may hold any character but a line break):
    /// <code>
    /// shapgen-onnx-signature	1
    /// path	models/net.onnx
    /// input	1	?,1,28,28	input
    /// output	1	?,2	output
    /// </code>
    /// or, for a file that cannot be used, <c>error	notfound|invalid	message</c> after the path.
    /// </summary>
    internal static class OnnxSignatureText
    {
        public const string Header = "shapgen-onnx-signature\t1";

        /// <summary>File name extension of the signature files (what the generator picks from the additional files).</summary>
        public const string Extension = ".shapgen-onnx";

        public static string Write(string path, OnnxGraphSignature signature)
        {
            var text = new StringBuilder().Append(Header).Append('\n').Append("path\t").Append(OneLine(path)).Append('\n');
            foreach (var v in signature.Inputs) Line(text, "input", v);
            foreach (var v in signature.Outputs) Line(text, "output", v);
            return text.ToString();
        }

        public static string WriteError(string path, string kind, string message) =>
            Header + "\npath\t" + OneLine(path) + "\nerror\t" + kind + "\t" + OneLine(message) + "\n";

        private static void Line(StringBuilder text, string kind, OnnxValueInfo value)
        {
            string dims = value.Dims is null ? "*" : value.Dims.Length == 0 ? "-"
                : string.Join(",", value.Dims.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)));
            text.Append(kind).Append('\t').Append(value.ElementType.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(dims).Append('\t').Append(OneLine(value.Name)).Append('\n');
        }

        private static string OneLine(string s) => s.Replace('\r', ' ').Replace('\n', ' ');

        /// <summary>The extraction of one file: its signature text, or an error text; never throws for a bad file.</summary>
        public static string Extract(string fullPath, string relativePath)
        {
            if (Directory.Exists(fullPath)) return WriteError(relativePath, "notfound", "the path is a directory, not an .onnx file");
            if (!File.Exists(fullPath)) return WriteError(relativePath, "notfound", "the file does not exist");
            try
            {
                return Write(relativePath, OnnxSignatureReader.Read(fullPath));
            }
            catch (OnnxFormatException e)
            {
                return WriteError(relativePath, "invalid", e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return WriteError(relativePath, "notfound", "the file cannot be read: " + e.Message);
            }
        }

        /// <summary><paramref name="fullPath"/> relative to <paramref name="baseDirectory"/> with '/' separators (netstandard2.0 has no Path.GetRelativePath).</summary>
        public static string Relative(string baseDirectory, string fullPath)
        {
            var from = Path.GetFullPath(baseDirectory).Replace('\\', '/').TrimEnd('/').Split('/');
            var to = Path.GetFullPath(fullPath).Replace('\\', '/').Split('/');
            var comparison = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            int common = 0;
            while (common < from.Length && common < to.Length && string.Equals(from[common], to[common], comparison)) common++;
            if (common == 0) return string.Join("/", to);
            var parts = Enumerable.Repeat("..", from.Length - common).Concat(to.Skip(common));
            return string.Join("/", parts);
        }
    }
}

#if !SHAPGEN_ONNX_READER_ONLY
/// <summary>
/// Writes, for each ONNX model item, the signature text (see ShapGen.OnnxBuild.OnnxSignatureText) into
/// <see cref="OutputDirectory"/>, only when it changed (so the compiler sees an unchanged file as unchanged), and
/// removes signature files of models no longer listed. The generator reads them as additional files.
/// </summary>
public sealed class ShapGenExtractOnnxSignatures : Task
{
    /// <summary>The ONNX model items (paths relative to the project).</summary>
    [Required]
    public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The project's directory: paths are written relative to it, as the attribute names them.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = "";

    /// <summary>Where the signature files go (under obj/).</summary>
    [Required]
    public string OutputDirectory { get; set; } = "";

    /// <summary>The signature files, to pass to the compiler as AdditionalFiles.</summary>
    [Output]
    public ITaskItem[] Signatures { get; set; } = Array.Empty<ITaskItem>();

    /// <inheritdoc />
    public override bool Execute()
    {
        try
        {
            Directory.CreateDirectory(OutputDirectory);
            var written = new Dictionary<string, ITaskItem>(StringComparer.Ordinal);
            foreach (var model in Models)
            {
                string full = Path.GetFullPath(Path.Combine(ProjectDirectory, model.ItemSpec));
                string relative = ShapGen.OnnxBuild.OnnxSignatureText.Relative(ProjectDirectory, full);
                string file = Path.Combine(OutputDirectory, FileName(relative));
                if (written.ContainsKey(file)) continue;
                string text = ShapGen.OnnxBuild.OnnxSignatureText.Extract(full, relative);
                if (!File.Exists(file) || File.ReadAllText(file) != text) File.WriteAllText(file, text, new UTF8Encoding(false));
                written[file] = new TaskItem(file);
                Log.LogMessage(MessageImportance.Low, "ShapGen: ONNX signature of {0} in {1}.", relative, file);
            }
            foreach (var stale in Directory.GetFiles(OutputDirectory, "*" + ShapGen.OnnxBuild.OnnxSignatureText.Extension))
                if (!written.ContainsKey(Path.GetFullPath(stale)) && !written.ContainsKey(stale)) File.Delete(stale);
            Signatures = written.Values.ToArray();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.LogWarning("ShapGen: could not write the ONNX signatures to {0}: {1}", OutputDirectory, e.Message);
            return true;
        }
    }

    /// <summary>A readable, unique file name: the path's safe characters and a hash of the whole path.</summary>
    private static string FileName(string relative)
    {
        uint hash = 2166136261;
        foreach (char c in relative) hash = unchecked((hash ^ c) * 16777619);
        var safe = new string(relative.Select(c => char.IsLetterOrDigit(c) || c == '-' || c == '.' ? c : '_').ToArray());
        if (safe.Length > 80) safe = safe.Substring(safe.Length - 80);
        return safe + "-" + hash.ToString("x8", CultureInfo.InvariantCulture) + ShapGen.OnnxBuild.OnnxSignatureText.Extension;
    }
}
#endif
