using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.IO;

public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("shapgen-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Builds a file byte by byte from the format's definition, independently of the writer under test.
    private string HandMade(string headerJson, byte[] data)
    {
        string path = Path.Combine(_dir, Guid.NewGuid() + ".safetensors");
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        using var s = File.Create(path);
        s.Write(BitConverter.GetBytes((ulong)header.Length));
        s.Write(header);
        s.Write(data);
        return path;
    }

    [Fact]
    public void Reads_hand_made_file_with_f32_f16_bf16_i64()
    {
        var data = new List<byte>();
        data.AddRange(BitConverter.GetBytes(1.5f)); data.AddRange(BitConverter.GetBytes(-2.25f));   // F32 [2]
        data.AddRange(BitConverter.GetBytes((Half)0.5f)); data.AddRange(BitConverter.GetBytes((Half)(-3f))); // F16 [2]
        data.AddRange(new byte[] { 0xC0, 0x3F, 0x20, 0xC1 });                                        // BF16 1.5, -10
        data.AddRange(BitConverter.GetBytes(-7L));                                                    // I64 [1,1]
        string path = HandMade((
            "{'__metadata__':{'format':'pt'},'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8]}," +
            "'h':{'dtype':'F16','shape':[2],'data_offsets':[8,12]},'b':{'dtype':'BF16','shape':[2],'data_offsets':[12,16]}," +
            "'i':{'dtype':'I64','shape':[1,1],'data_offsets':[16,24]}}").Replace('\'', '"'), data.ToArray());

        var loaded = Safetensors.Load(path);
        Assert.Equal(new[] { 1.5f, -2.25f }, loaded["a"].data<float>().ToArray());
        Assert.Equal(ScalarType.Float16, loaded["h"].dtype);
        Assert.Equal(new[] { 0.5f, -3f }, loaded["h"].to(float32).data<float>().ToArray());
        Assert.Equal(ScalarType.BFloat16, loaded["b"].dtype);
        Assert.Equal(new[] { 1.5f, -10f }, loaded["b"].to(float32).data<float>().ToArray());
        Assert.Equal(new long[] { 1, 1 }, loaded["i"].shape);
        Assert.Equal(-7L, loaded["i"].item<long>());
    }

    [Fact]
    public void Save_then_load_is_bitwise_for_every_dtype()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = randn(3, 2, dtype: float64),
            ["f32"] = randn(4),
            ["f16"] = randn(5).to(float16),
            ["bf16"] = randn(5).to(bfloat16),
            ["i64"] = arange(6).reshape(2, 3),
            ["u8"] = tensor(new byte[] { 0, 7, 255 }),
        };
        string path = Path.Combine(_dir, "round.safetensors");
        Safetensors.Save(path, tensors);
        var loaded = Safetensors.Load(path);
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, loaded[name].dtype);
            Assert.True(t.equal(loaded[name]).all().item<bool>(), name);
        }
    }

    [Fact]
    public void LoadInto_fills_a_module_by_pytorch_names()
    {
        var source = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2));
        string path = Path.Combine(_dir, "model.safetensors");
        Safetensors.Save(path, source.state_dict());
        var target = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2));
        Safetensors.LoadInto(target, path);
        var x = randn(5, 3);
        Assert.True(source.call(x).equal(target.call(x)).all().item<bool>());
        Assert.Contains("0.weight", source.state_dict().Keys);
    }

    [Fact]
    public void LoadInto_names_missing_and_misshaped_weights()
    {
        string path = Path.Combine(_dir, "partial.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["0.weight"] = zeros(4, 5) });
        var target = nn.Sequential(nn.Linear(3, 4));
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.LoadInto(target, path));
        Assert.Contains("missing 1 weight(s): 0.bias", e.Message);
        Assert.Contains("'0.weight' has shape [4, 5] in the file; the module expects [4, 3]", e.Message);
    }

    [Fact]
    public void Corrupt_and_missing_files_are_clear_errors()
    {
        Assert.Throws<FileNotFoundException>(() => Safetensors.Load(Path.Combine(_dir, "none.safetensors")));
        string bad = Path.Combine(_dir, "bad.safetensors");
        File.WriteAllBytes(bad, new byte[] { 255, 255, 0, 0, 0, 0, 0, 0, 1, 2 });
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(bad));
        Assert.Contains("exceeds", e.Message);
        string overflow = HandMade("{'a':{'dtype':'F32','shape':[4],'data_offsets':[0,16]}}".Replace('\'', '"'), new byte[8]);
        Assert.Contains("do not fit", Assert.Throws<InvalidDataException>(() => Safetensors.Load(overflow)).Message);
    }
}
