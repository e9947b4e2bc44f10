using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using ShapGen.Tests.Infrastructure;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.IO;

public sealed class NpyNpzTests
{

    private static string BinaryMnist => Path.Combine(SharedData.Dir, "binary-mnist.npz");

    private static byte[] Bytes(NpyArray array)
    {
        using var s = new MemoryStream();
        Npy.Write(s, array);
        return s.ToArray();
    }

    [Fact]
    public void Header_follows_the_npy_1_0_rules_byte_by_byte()
    {
        byte[] header = Npy.FormatHeader("<f4", new long[] { 3, 4 }, fortranOrder: false);
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
        // magic (6) + version 1.0 (2) + little-endian length (2) + dict + 20 spare spaces for the growth axis ("3" has 1
        // of numpy's 21 digits) + padding spaces + '\n': 10 + 60 + 20 + 1 = 91, rounded up to 128.
        Assert.Equal(128, header.Length);
        Assert.Equal(new byte[] { 0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0 }, header.Take(8).ToArray());
        Assert.Equal(128 - 10, header[8] | header[9] << 8);
        Assert.Equal(dict, Encoding.ASCII.GetString(header, 10, dict.Length));
        Assert.All(header.Skip(10 + dict.Length).Take(128 - 10 - dict.Length - 1), b => Assert.Equal((byte)' ', b));
        Assert.Equal((byte)'\n', header[^1]);

        Assert.Contains("'shape': (7,), }", Encoding.ASCII.GetString(Npy.FormatHeader("<f8", new long[] { 7 }, false)));
        // A scalar has no growth axis: 10 + 55 + 1 = 66 → 128; its shape is ().
        byte[] scalar = Npy.FormatHeader("|u1", Array.Empty<long>(), false);
        Assert.Contains("'shape': (), }", Encoding.ASCII.GetString(scalar));
        Assert.Equal(128, scalar.Length);
        // A long shape pushes the header to the next multiple of 64: 10 + 124 + 14 + 1 = 149 → 192.
        var longShape = Enumerable.Repeat(1000000L, 8).ToArray();
        byte[] big = Npy.FormatHeader("<i8", longShape, true);
        string bigDict = "{'descr': '<i8', 'fortran_order': True, 'shape': (" + string.Join(", ", longShape) + "), }";
        Assert.Equal(124, bigDict.Length);
        Assert.Equal(192, big.Length);
        Assert.Equal(bigDict, Encoding.ASCII.GetString(big, 10, bigDict.Length));
    }

    [Theory]
    [InlineData(ScalarType.Float32, "<f4")]
    [InlineData(ScalarType.Float64, "<f8")]
    [InlineData(ScalarType.Byte, "|u1")]
    [InlineData(ScalarType.Int64, "<i8")]
    [InlineData(ScalarType.Int32, "<i4")]
    [InlineData(ScalarType.Bool, "|b1")]
    [InlineData(ScalarType.Float16, "<f2")]
    [InlineData(ScalarType.Int8, "|i1")]
    public void Tensors_map_to_little_endian_numpy_dtypes(ScalarType type, string descr)
    {
        using var scope = NewDisposeScope();
        var t = arange(6).reshape(2, 3).to_type(type);
        var array = NpyArray.FromTensor(t);
        Assert.Equal(descr, array.Descr);
        Assert.Equal(new long[] { 2, 3 }, array.Shape);
        var bytes = Bytes(array);
        Assert.Equal(0, (bytes.Length - array.Data.Length) % 64);
        Assert.Contains($"'descr': '{descr}'", Encoding.ASCII.GetString(bytes, 0, bytes.Length - array.Data.Length));
        using var back = Npy.Read(new MemoryStream(bytes)).ToTensor();
        Assert.Equal(type, back.dtype);
        Assert.Equal(t.bytes.ToArray(), back.bytes.ToArray());
    }

    [SharedDataFact("binary-mnist.npz")]
    public void Numpys_own_files_are_rewritten_byte_for_byte()
    {
        // binary-mnist.npz was written by numpy: re-encoding each array (header and data) must reproduce it exactly.
        using var zip = ZipFile.OpenRead(BinaryMnist);
        foreach (var entry in zip.Entries)
        {
            using var s = entry.Open();
            using var original = new MemoryStream();
            s.CopyTo(original);
            var array = Npy.Read(new MemoryStream(original.ToArray()));
            Assert.Equal(original.ToArray(), Bytes(array));
            using var tensor = array.ToTensor();
            Assert.Equal(original.ToArray(), Bytes(NpyArray.FromTensor(tensor)));
        }
    }

    [SharedDataFact("binary-mnist.npz")]
    public void Binary_mnist_has_the_documented_arrays_shapes_and_dtypes()
    {
        var data = Npz.Load(BinaryMnist);
        try
        {
            Assert.Equal(new[] { "X_test", "X_train", "y_test", "y_train" }, data.Keys.OrderBy(k => k, StringComparer.Ordinal));
            Assert.Equal(new long[] { 12665, 784 }, data["X_train"].shape);
            Assert.Equal(new long[] { 12665 }, data["y_train"].shape);
            Assert.Equal(new long[] { 2115, 784 }, data["X_test"].shape);
            Assert.Equal(new long[] { 2115 }, data["y_test"].shape);
            Assert.Equal(ScalarType.Byte, data["X_train"].dtype);
            // Digits 0 and 1 only, both present; pixels span 0..255.
            foreach (var y in new[] { data["y_train"], data["y_test"] })
                Assert.Equal(new long[] { 0, 1 }, y.to_type(int64).unique().Item1.data<long>().ToArray().OrderBy(v => v));
            Assert.Equal(0, data["X_train"].min().item<byte>());
            Assert.Equal(255, data["X_train"].max().item<byte>());
        }
        finally
        {
            foreach (var t in data.Values) t.Dispose();
        }
        using var one = Npz.Load(BinaryMnist, "y_test");
        Assert.Equal(new long[] { 2115 }, one.shape);
        var missing = Assert.Throws<KeyNotFoundException>(() => Npz.Load(BinaryMnist, "nope"));
        Assert.Contains("X_train", missing.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Npz_round_trip_is_bitwise_for_float_and_integer_arrays(bool compress)
    {
        using var scope = NewDisposeScope();
        var floats = tensor(new[] { 0f, -0f, float.NaN, float.Epsilon, float.MaxValue, -1.5f, 1e-30f, float.NegativeInfinity }, new long[] { 2, 4 });
        var doubles = tensor(new[] { Math.PI, -0.0, double.NaN, double.Epsilon, 1e300, -2.25 }, new long[] { 3, 1, 2 });
        var bytes = tensor(new byte[] { 0, 1, 127, 128, 255 });
        var longs = tensor(new[] { long.MinValue, -1, 0, long.MaxValue });
        var arrays = new Dictionary<string, Tensor> { ["f"] = floats, ["d"] = doubles, ["u"] = bytes, ["l"] = longs };
        string a = Path.GetTempFileName(), b = Path.GetTempFileName();
        try
        {
            Npz.Save(a, arrays, compress);
            var back = Npz.Load(a);
            foreach (var (name, t) in arrays)
            {
                Assert.Equal(t.dtype, back[name].dtype);
                Assert.Equal(t.shape, back[name].shape);
                Assert.Equal(t.bytes.ToArray(), back[name].bytes.ToArray());
            }
            Npz.Save(b, back, compress);
            foreach (var t in back.Values) t.Dispose();
            Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
            using var zip = ZipFile.OpenRead(a);
            Assert.All(zip.Entries, e => Assert.Equal(compress, e.CompressedLength < e.Length));
            Assert.Equal(new[] { "f.npy", "d.npy", "u.npy", "l.npy" }, zip.Entries.Select(e => e.FullName));
        }
        finally
        {
            File.Delete(a);
            File.Delete(b);
        }
    }

    [Fact]
    public void Fortran_order_big_endian_and_version_2_files_are_read()
    {
        // A 2×3 float64 array [[1, 2, 3], [4, 5, 6]] stored column-major and big-endian, in format 2.0.
        string dict = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }";
        int total = (12 + dict.Length + 1 + 63) / 64 * 64;
        var file = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0 };
        file.AddRange(BitConverter.GetBytes((uint)(total - 12)));
        file.AddRange(Encoding.ASCII.GetBytes(dict.PadRight(total - 12 - 1)));
        file.Add((byte)'\n');
        foreach (double v in new double[] { 1, 4, 2, 5, 3, 6 })
            file.AddRange(BitConverter.GetBytes(v).Reverse());
        var array = Npy.Read(new MemoryStream(file.ToArray()));
        Assert.True(array.FortranOrder);
        using var t = array.ToTensor();
        Assert.Equal(new long[] { 2, 3 }, t.shape);
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6 }, t.data<double>().ToArray());
    }

    [Fact]
    public void Bad_files_and_unsupported_dtypes_fail_clearly()
    {
        Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(Encoding.ASCII.GetBytes("not a numpy file"))));
        var objectHeader = Npy.FormatHeader("|O", new long[] { 2 }, false);
        var obj = Assert.Throws<NotSupportedException>(() => Npy.Read(new MemoryStream(objectHeader)));
        Assert.Contains("'|O'", obj.Message);
        var strings = NpyArray.FromStrings(new[] { "a" });
        Assert.Throws<NotSupportedException>(() => strings.ToTensor());
        using var bf = zeros(2, dtype: ScalarType.BFloat16);
        var ex = Assert.Throws<NotSupportedException>(() => NpyArray.FromTensor(bf));
        Assert.Contains("BFloat16", ex.Message);
        var size = Assert.Throws<ArgumentException>(() => new NpyArray("<f4", new long[] { 3 }, new byte[8]));
        Assert.Contains("12 bytes", size.Message);
    }

    [Fact]
    public void Unicode_string_arrays_round_trip()
    {
        var labels = new[] { "zero", "Ünïcode", "", "7" };
        var array = NpyArray.FromStrings(labels);
        Assert.Equal("<U7", array.Descr);
        var back = Npy.Read(new MemoryStream(Bytes(array)));
        Assert.Equal(labels, back.ToStrings());
    }
}
