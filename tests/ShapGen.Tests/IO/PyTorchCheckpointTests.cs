using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.IO;

/// <summary>
/// PyTorch checkpoints built byte by byte the way torch.save writes them (pickle protocol 2, zip or legacy layout),
/// loaded with <see cref="Weights.LoadWeights"/>, and hostile variants that must be refused with a clear message.
/// </summary>
public sealed class PyTorchCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("shapgen-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>Pickle opcodes as torch.save (protocol 2) emits them.</summary>
    private sealed class Pickle
    {
        private readonly List<byte> _b = new() { 0x80, 2 };

        public Pickle Op(params byte[] bytes) { _b.AddRange(bytes); return this; }
        public Pickle Op(char op) => Op((byte)op);
        public Pickle Global(string module, string name) => Op('c').Op(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        public Pickle Str(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            return Op('X').Op(BitConverter.GetBytes(bytes.Length)).Op(bytes);
        }
        public Pickle ByteStr(string s) => Op('U').Op((byte)s.Length).Op(Encoding.ASCII.GetBytes(s)); // Python 2 str
        public Pickle Int(long v) => v is >= 0 and < 256 ? Op('K').Op((byte)v) : Op(0x8a, 8).Op(BitConverter.GetBytes(v));
        public Pickle Ints(long[] values)
        {
            Op('(');
            foreach (var v in values) Int(v);
            return Op('t');
        }
        public Pickle EmptyOrderedDict() => Global("collections", "OrderedDict").Op(')').Op('R');
        public byte[] Stop() => _b.Append((byte)'.').ToArray();
    }

    private sealed record Entry(string Name, string Key, long Count, long Offset, long[] Size, long[] Stride, string Type = "FloatStorage");

    /// <summary>OrderedDict of tensors (Python 3 style, as torch ≥ 1.6 writes), with the _metadata BUILD.</summary>
    private static byte[] StateDict(IEnumerable<Entry> entries, bool legacy = false, Action<Pickle>? extra = null)
    {
        var p = new Pickle();
        p.EmptyOrderedDict().Op((byte)'q', 0).Op('(');
        foreach (var e in entries)
        {
            p.Str(e.Name);
            p.Global("torch._utils", legacy ? "_rebuild_tensor" : "_rebuild_tensor_v2").Op('(');
            p.Op('(').Str("storage").Global("torch", e.Type).Str(e.Key).Str("cpu").Int(e.Count);
            if (legacy) p.Op('N');
            p.Op('t').Op('Q');
            p.Int(e.Offset).Ints(e.Size).Ints(e.Stride);
            if (!legacy) p.Op(0x89).EmptyOrderedDict();
            p.Op('t').Op('R');
        }
        extra?.Invoke(p);
        p.Op('u');
        p.Op('}').Str("_metadata").EmptyOrderedDict().Op('s').Op('b'); // BUILD: the OrderedDict's _metadata attribute
        return p.Stop();
    }

    private static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    private static byte[] Zip(byte[] pickle, params (string Key, byte[] Data)[] storages)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, byte[] data)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(data);
            }
            Add("archive/data.pkl", pickle);
            Add("archive/byteorder", Encoding.ASCII.GetBytes("little"));
            foreach (var (key, data) in storages) Add($"archive/data/{key}", data);
            Add("archive/version", Encoding.ASCII.GetBytes("3\n"));
        }
        return memory.ToArray();
    }

    /// <summary>torch.save's legacy layout: magic, protocol, sys_info, the object, the storage keys, then each storage.</summary>
    private static byte[] Legacy(byte[] pickle, params (string Key, byte[] Data, long Count)[] storages)
    {
        var bytes = new List<byte>();
        var magic = new byte[] { 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19 }; // 0x1950a86a20f9469cfc6c
        bytes.AddRange(new Pickle().Op(0x8a, 10).Op(magic).Stop());
        bytes.AddRange(new Pickle().Op('M').Op(BitConverter.GetBytes((ushort)1001)).Stop());
        bytes.AddRange(new Pickle().Op('}').Op('(').ByteStr("protocol_version").Op('M').Op(BitConverter.GetBytes((ushort)1001))
                                   .ByteStr("little_endian").Op(0x88).Op('u').Stop());
        bytes.AddRange(pickle);
        var keys = new Pickle().Op(']').Op('(');
        foreach (var s in storages) keys.ByteStr(s.Key);
        bytes.AddRange(keys.Op('e').Stop());
        foreach (var (_, data, count) in storages)
        {
            bytes.AddRange(BitConverter.GetBytes(count));
            bytes.AddRange(data);
        }
        return bytes.ToArray();
    }

    // weight [2, 3] is a transposed view of storage 0 (6 floats): weight[i, j] = s0[i + 2j]; bias = s1[1..3).
    private static readonly float[] S0 = { 1, 2, 3, 4, 5, 6 };
    private static readonly float[] S1 = { -9, 0.5f, -0.25f, -9 };

    private static Entry[] LinearEntries() => new[]
    {
        new Entry("0.weight", "0", 6, 0, new long[] { 2, 3 }, new long[] { 1, 2 }),
        new Entry("0.bias", "1", 4, 1, new long[] { 2 }, new long[] { 1 }),
    };

    private static nn.Module<Tensor, Tensor> Linear() => nn.Sequential(nn.Linear(3, 2));

    private static void AssertLinearLoaded(nn.Module<Tensor, Tensor> model)
    {
        var state = model.state_dict();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(S0[i + 2 * j], state["0.weight"][i, j].item<float>());
        Assert.Equal(new[] { 0.5f, -0.25f }, state["0.bias"].data<float>().ToArray());
    }

    private string Write(string name, byte[] bytes)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string ZipCheckpoint(string name = "model.pth") =>
        Write(name, Zip(StateDict(LinearEntries()), ("0", Floats(S0)), ("1", Floats(S1))));

    [Fact]
    public void A_zip_state_dict_loads_views_with_strides_and_offsets()
    {
        var model = Linear();
        model.LoadWeights(ZipCheckpoint());
        AssertLinearLoaded(model);
    }

    [Fact]
    public void A_legacy_state_dict_with_python2_strings_loads()
    {
        // As torchvision's older weights: _rebuild_tensor (4 arguments), 6-element persistent ids, byte-string keys.
        var p = new Pickle();
        p.Global("collections", "OrderedDict").Op(']').Op('(');
        foreach (var e in LinearEntries())
        {
            p.ByteStr(e.Name).Global("torch._utils", "_rebuild_tensor").Op('(');
            p.Op('(').ByteStr("storage").Global("torch", "FloatStorage").ByteStr(e.Key).ByteStr("cpu").Int(e.Count).Op('N').Op('t').Op('Q');
            p.Int(e.Offset).Ints(e.Size).Ints(e.Stride).Op('t').Op('R').Op(0x86);
        }
        p.Op('e');
        var pickle = p.Op(0x85).Op('R').Stop(); // OrderedDict([(name, tensor), ...]) as Python 2 reduces it
        var path = Write("vgg-like.pth", Legacy(pickle, ("0", Floats(S0), 6), ("1", Floats(S1), 4)));
        var model = Linear();
        model.LoadWeights(path);
        AssertLinearLoaded(model);
    }

    [Fact]
    public void The_format_comes_from_the_content_not_the_extension()
    {
        var fromZip = Linear();
        fromZip.LoadWeights(ZipCheckpoint("weights.safetensors"));
        AssertLinearLoaded(fromZip);

        var source = Linear();
        string safetensors = PathOf("weights.pth");
        Safetensors.Save(safetensors, source.state_dict());
        var fromSafetensors = Linear();
        fromSafetensors.LoadWeights(safetensors);
        Assert.True(source.state_dict()["0.weight"].eq(fromSafetensors.state_dict()["0.weight"]).all().item<bool>());

        string garbage = Write("garbage.bin", Encoding.ASCII.GetBytes("hello, not weights at all"));
        var e = Assert.Throws<InvalidDataException>(() => Linear().LoadWeights(garbage));
        Assert.Contains("is neither a PyTorch checkpoint", e.Message);
        Assert.Contains(garbage, e.Message);
    }

    [Fact]
    public void A_training_checkpoint_with_a_nested_state_dict_loads_and_other_values_are_named()
    {
        var inner = StateDict(LinearEntries());
        // {'epoch': 3, 'state_dict': OrderedDict(...)}: the inner pickle without PROTO and STOP.
        var outer = new Pickle().Op('}').Op('(').Str("epoch").Int(3).Str("state_dict").Op(inner[2..^1]).Op('u').Stop();
        var model = Linear();
        model.LoadWeights(Write("train.pt", Zip(outer, ("0", Floats(S0)), ("1", Floats(S1)))));
        AssertLinearLoaded(model);

        var flat = StateDict(LinearEntries(), extra: p => p.Str("epoch").Int(3));
        var e = Assert.Throws<InvalidDataException>(() => Linear().LoadWeights(Write("flat.pt", Zip(flat, ("0", Floats(S0)), ("1", Floats(S1))))));
        Assert.Contains("'epoch' is the integer 3, not a tensor", e.Message);
    }

    [Fact]
    public void Missing_unexpected_and_misshaped_weights_are_named_with_the_file()
    {
        string path = ZipCheckpoint();
        var wider = nn.Sequential(nn.Linear(4, 2));
        var before = wider.state_dict()["0.bias"].clone();
        var e1 = Assert.Throws<InvalidDataException>(() => wider.LoadWeights(path));
        Assert.Contains(path, e1.Message);
        Assert.Contains("'0.weight' has shape [2, 3] in the file; the module expects [2, 4]", e1.Message);
        Assert.True(before.eq(wider.state_dict()["0.bias"]).all().item<bool>(), "nothing is copied when a check fails");
        var other = nn.Sequential(nn.Identity(), nn.Linear(3, 2));
        var e2 = Assert.Throws<InvalidDataException>(() => other.LoadWeights(path));
        Assert.Contains("missing 2 weight(s): 1.weight, 1.bias", e2.Message);
        Assert.Contains("2 unexpected weight(s): 0.weight, 0.bias", e2.Message);
    }

    [Fact]
    public void A_truncated_zip_is_refused()
    {
        var bytes = File.ReadAllBytes(ZipCheckpoint());
        string path = Write("cut.pth", bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Weights.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_truncated_legacy_file_is_refused()
    {
        var pickle = StateDict(LinearEntries(), legacy: true);
        var bytes = Legacy(pickle, ("0", Floats(S0), 6), ("1", Floats(S1), 4));
        string path = Write("cut-legacy.pth", bytes[..^5]);
        var e = Assert.Throws<InvalidDataException>(() => Weights.Load(path));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("storage '1'", e.Message);
    }

    [Fact]
    public void A_storage_shorter_than_its_tensor_needs_is_refused()
    {
        var view = StateDict(new[] { new Entry("w", "0", 4, 0, new long[] { 2, 3 }, new long[] { 3, 1 }) });
        var e1 = Assert.Throws<InvalidDataException>(() => Weights.Load(Write("short-view.pth", Zip(view, ("0", Floats(1, 2, 3, 4))))));
        Assert.Contains("its last element is element 5, but the storage holds 4", e1.Message);

        var declared = StateDict(new[] { new Entry("w", "0", 6, 0, new long[] { 6 }, new long[] { 1 }) });
        var e2 = Assert.Throws<InvalidDataException>(() => Weights.Load(Write("short-bytes.pth", Zip(declared, ("0", Floats(1, 2, 3, 4))))));
        Assert.Contains("storage '0' holds 16 bytes, but its 6 Float32 elements need 24", e2.Message);
    }

    [Fact]
    public void Huge_dimensions_are_refused_before_any_allocation()
    {
        long huge = 1L << 40;
        var overflow = StateDict(new[] { new Entry("w", "0", 4, 0, new long[] { huge, huge }, new long[] { huge, 1 }) });
        var e1 = Assert.Throws<InvalidDataException>(() => Weights.Load(Write("huge.pth", Zip(overflow, ("0", Floats(1, 2, 3, 4))))));
        Assert.True(e1.Message.Contains("overflows", StringComparison.Ordinal), e1.Message);

        var storage = StateDict(new[] { new Entry("w", "0", long.MaxValue / 2, 0, new long[] { 1 }, new long[] { 1 }) });
        var e2 = Assert.Throws<InvalidDataException>(() => Weights.Load(Write("huge-storage.pth", Zip(storage, ("0", Floats(1))))));
        Assert.Contains("storage '0'", e2.Message);
    }

    [Theory]
    [InlineData("posix", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("torch", "load")]
    public void An_unknown_global_is_refused_without_being_touched(string module, string name)
    {
        var pickle = new Pickle().Global(module, name).Op('(').Str("echo pwned").Op('t').Op('R').Stop();
        var e = Assert.Throws<InvalidDataException>(() => Weights.Load(Write("evil.pth", Zip(pickle))));
        Assert.Contains($"refers to '{module}.{name}'", e.Message);
        Assert.Contains("refused", e.Message);
    }

    [Fact]
    public void A_nesting_bomb_and_lengths_past_the_end_are_refused()
    {
        var bomb = new Pickle();
        for (int i = 0; i < 100_000; i++) bomb.Op(']').Op('(');
        var e1 = Assert.Throws<InvalidDataException>(() => Weights.Load(Write("bomb.pth", Zip(bomb.Stop()))));
        Assert.Contains($"nested more than {1000} levels", e1.Message);

        var longString = new Pickle().Op('X').Op(BitConverter.GetBytes(int.MaxValue)).Op((byte)'a').Stop();
        var e2 = Assert.Throws<InvalidDataException>(() => Weights.Load(Write("long.pth", Zip(longString))));
        Assert.Contains("runs past the end", e2.Message);

        var unknownMemo = new Pickle().Op((byte)'h', 7).Stop();
        Assert.Contains("memo entry 7", Assert.Throws<InvalidDataException>(() => Weights.Load(Write("memo.pth", Zip(unknownMemo)))).Message);
    }
}
