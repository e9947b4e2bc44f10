using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace ShapGen.Tests.Onnx;

/// <summary>Writes protobuf wire format by hand, so the tests build ONNX models (and broken ones) byte by byte.</summary>
internal static class OnnxProtoBuilder
{
    public static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            if (value != 0) b |= 0x80;
            bytes.Add(b);
        } while (value != 0);
        return bytes.ToArray();
    }

    public static byte[] VarintField(int field, ulong value) => Varint((ulong)field << 3).Concat(Varint(value)).ToArray();

    public static byte[] Field(int field, params byte[][] parts)
    {
        var body = parts.SelectMany(p => p).ToArray();
        return Varint(((ulong)field << 3) | 2).Concat(Varint((ulong)body.Length)).Concat(body).ToArray();
    }

    public static byte[] Text(int field, string text) => Field(field, Encoding.UTF8.GetBytes(text));

    /// <summary>A Dimension: a positive value, or a named (symbolic) one.</summary>
    public static byte[] Dim(long value) => Field(1, VarintField(1, (ulong)value));

    public static byte[] Dim(string param) => Field(1, Text(2, param));

    /// <summary>A ValueInfoProto of a tensor with elem_type <paramref name="elementType"/> and the given dims.</summary>
    public static byte[] Value(int field, string name, int elementType, params byte[][] dims) =>
        Field(field, Text(1, name), Field(2, Field(1, VarintField(1, (ulong)elementType), Field(2, dims))));

    /// <summary>A ModelProto (ir_version 7, producer "test") around a graph made of <paramref name="graphParts"/>.</summary>
    public static byte[] Model(params byte[][] graphParts) =>
        VarintField(1, 7).Concat(Text(2, "test")).Concat(Field(7, graphParts)).ToArray();

    /// <summary>A binary-MNIST-like model: input "input" float [batch, 1, 28, 28], output "output" float [batch, 2].</summary>
    public static byte[] MnistLike() => Model(
        Text(2, "graph"),
        Value(11, "input", 1, Dim("batch"), Dim(1), Dim(28), Dim(28)),
        Value(12, "output", 1, Dim("batch"), Dim(2)));

    public static MemoryStream Stream(byte[] bytes) => new(bytes, writable: false);
}
