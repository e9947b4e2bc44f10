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
        Assert.Contains("header length of 65535 bytes, but only 2 follow", e.Message);
        string overflow = HandMade("{'a':{'dtype':'F32','shape':[4],'data_offsets':[0,16]}}".Replace('\'', '"'), new byte[8]);
        Assert.Contains("expected 0 ≤ begin ≤ end ≤ 8", Assert.Throws<InvalidDataException>(() => Safetensors.Load(overflow)).Message);
    }

    // Hostile headers, each over 8 bytes of data (two F32 values) unless the case needs otherwise. Every one must be an
    // InvalidDataException that names the file and says what was expected and what was found, before any tensor exists.
    [Theory]
    [InlineData("negative offsets read the header", "{'a':{'dtype':'F32','shape':[2],'data_offsets':[-8,0]}}", 8, "[-8, 0]", "0 ≤ begin ≤ end ≤ 8")]
    [InlineData("end before begin", "{'a':{'dtype':'F32','shape':[0],'data_offsets':[8,4]}}", 8, "[8, 4]", "0 ≤ begin ≤ end ≤ 8")]
    [InlineData("end past the data", "{'a':{'dtype':'F32','shape':[4],'data_offsets':[0,16]}}", 8, "[0, 16]", "0 ≤ begin ≤ end ≤ 8")]
    [InlineData("offsets that overflow", "{'a':{'dtype':'F32','shape':[2],'data_offsets':[9223372036854775799,9223372036854775807]}}", 8, "9223372036854775807", "≤ 8")]
    [InlineData("size not dtype × shape", "{'a':{'dtype':'F32','shape':[3],'data_offsets':[0,8]}}", 8, "8 bytes", "needs 12")]
    [InlineData("overlap", "{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8]},'b':{'dtype':'F32','shape':[1],'data_offsets':[4,8]}}", 8, "'b'", "overlaps tensor 'a', which ends at 8")]
    [InlineData("gap", "{'a':{'dtype':'F32','shape':[1],'data_offsets':[4,8]}}", 8, "[0, 4)", "expected to begin at 0")]
    [InlineData("bytes nobody owns at the end", "{'a':{'dtype':'F32','shape':[1],'data_offsets':[0,4]}}", 8, "cover 4 bytes", "it has 8")]
    [InlineData("negative dimension", "{'a':{'dtype':'F32','shape':[-1,2],'data_offsets':[0,8]}}", 8, "[-1, 2]", "negative dimension -1")]
    [InlineData("2^62 elements of 4 bytes wrap to 0 bytes", "{'a':{'dtype':'F32','shape':[4611686018427387904],'data_offsets':[0,0]}}", 0, "[4611686018427387904]", "needs more than")]
    [InlineData("dimensions whose product overflows", "{'a':{'dtype':'U8','shape':[4294967296,4294967296],'data_offsets':[0,0]}}", 0, "[4294967296, 4294967296]", "needs more than")]
    [InlineData("dimension beyond 64 bits", "{'a':{'dtype':'F32','shape':[18446744073709551616],'data_offsets':[0,8]}}", 8, "18446744073709551616", "not a 64-bit integer")]
    [InlineData("fractional dimension", "{'a':{'dtype':'F32','shape':[1.5],'data_offsets':[0,8]}}", 8, "1.5", "not a 64-bit integer")]
    [InlineData("shape not an array", "{'a':{'dtype':'F32','shape':2,'data_offsets':[0,8]}}", 8, "'shape' 2", "expected an array")]
    [InlineData("three offsets", "{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,4,8]}}", 8, "3 data_offsets", "expected 2")]
    [InlineData("a name twice", "{'a':{'dtype':'F32','shape':[1],'data_offsets':[0,4]},'a':{'dtype':'F32','shape':[1],'data_offsets':[4,8]}}", 8, "'a'", "appears twice")]
    [InlineData("header not an object", "[1,2]", 8, "Array", "not an object")]
    public void Hostile_headers_are_invalid_data_naming_the_file_and_the_problem(string why, string header, int dataBytes, string found, string expected)
    {
        string path = HandMade(header.Replace('\'', '"'), new byte[dataBytes]);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.True(e.Message.Contains(path, StringComparison.Ordinal), $"{why}: {e.Message}");
        Assert.True(e.Message.Contains(found, StringComparison.Ordinal), $"{why}: '{found}' not in: {e.Message}");
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"{why}: '{expected}' not in: {e.Message}");
    }

    [Fact]
    public void Header_length_beyond_the_file_says_how_much_follows()
    {
        string path = Path.Combine(_dir, "short.safetensors");
        File.WriteAllBytes(path, new byte[] { 100, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}' });
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("header length of 100 bytes, but only 2 follow", e.Message);
        // 2^64 − 1 as the length: no overflow into a small or negative number.
        File.WriteAllBytes(path, new byte[] { 255, 255, 255, 255, 255, 255, 255, 255, (byte)'{', (byte)'}' });
        Assert.Contains("18446744073709551615", Assert.Throws<InvalidDataException>(() => Safetensors.Load(path)).Message);
    }

    [Fact]
    public void A_directory_is_not_reported_as_missing()
    {
        var e = Assert.Throws<ArgumentException>(() => Safetensors.Load(_dir));
        Assert.Contains($"'{_dir}' is a directory", e.Message);
    }
}
