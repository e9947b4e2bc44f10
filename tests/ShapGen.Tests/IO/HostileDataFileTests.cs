using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using Xunit;

namespace ShapGen.Tests.IO;

/// <summary>
/// Hostile .npy, .npz and IDX files, built byte by byte from the formats' definitions (not by the writers under
/// test): each must be an <see cref="InvalidDataException"/> naming the file and the problem, with no large
/// allocation first (a header that claims terabytes is refused from the file's real size).
/// </summary>
public sealed class HostileDataFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("shapgen-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A .npy file: magic, version, little-endian header length, the dict padded with spaces to 64 bytes, '\n', body.</summary>
    private static byte[] NpyBytes(string dict, byte[] body, int major = 1)
    {
        int prefix = major == 1 ? 10 : 12;
        int total = (prefix + dict.Length + 1 + 63) / 64 * 64;
        var file = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        if (major == 1) file.AddRange(BitConverter.GetBytes((ushort)(total - prefix)));
        else file.AddRange(BitConverter.GetBytes((uint)(total - prefix)));
        file.AddRange(Encoding.ASCII.GetBytes(dict.PadRight(total - prefix - 1)));
        file.Add((byte)'\n');
        file.AddRange(body);
        return file.ToArray();
    }

    private static string Dict(string descr, string shape) => $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A zip (stored or deflated) holding the given members, written by the BCL's zip writer.</summary>
    private string Zip(string name, bool deflate, params (string Member, byte[] Bytes)[] members)
    {
        string path = Path.Combine(_dir, name);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            foreach (var (member, bytes) in members)
            {
                using var s = zip.CreateEntry(member, deflate ? CompressionLevel.Optimal : CompressionLevel.NoCompression).Open();
                s.Write(bytes);
            }
        return path;
    }

    private static void AssertMessage(Exception e, params string[] parts) => AssertMessage("", e, parts);

    private static void AssertMessage(string why, Exception e, params string[] parts)
    {
        foreach (string part in parts)
            Assert.True(e.Message.Contains(part, StringComparison.Ordinal), $"{why}: '{part}' is not in: {e.Message}");
    }

    public static TheoryData<string, byte[], string[]> HostileNpy => new()
    {
        { "truncated body", NpyBytes(Dict("<f4", "(10,)"), new byte[8]), new[] { "[10] of '<f4'", "needs 40 bytes, but only 8 remain" } },
        { "a terabyte shape", NpyBytes(Dict("<f8", "(1000000, 1000000)"), new byte[8]), new[] { "needs 8000000000000 bytes, but only 8 remain" } },
        { "a shape that overflows", NpyBytes(Dict("<f8", "(10000000000, 10000000000)"), Array.Empty<byte>()), new[] { "[10000000000, 10000000000] of 8-byte elements needs more than" } },
        { "negative dimension", NpyBytes(Dict("<f4", "(-1, 3)"), new byte[12]), new[] { "negative dimension -1" } },
        { "dimension that is no number", NpyBytes(Dict("<f4", "('a',)"), new byte[4]), new[] { "'a'", "not a 64-bit integer" } },
        { "dimension beyond 64 bits", NpyBytes(Dict("<f4", "(99999999999999999999,)"), new byte[4]), new[] { "99999999999999999999", "not a 64-bit integer" } },
        { "no shape", NpyBytes("{'descr': '<f4', 'fortran_order': False, }", new byte[4]), new[] { "malformed", "expected 'descr', 'fortran_order' and 'shape'" } },
        { "bad magic", Encoding.ASCII.GetBytes("PK this is not numpy at all"), new[] { "is not a .npy file", "\\x93NUMPY" } },
        { "cut inside the preamble", NpyBytes(Dict("<f4", "(1,)"), new byte[4])[..9], new[] { "cut off inside its 10-byte .npy preamble (9 bytes)" } },
        { "unknown version", NpyBytes(Dict("<f4", "(1,)"), new byte[4], major: 9), new[] { "version 9.0", "expected 1.0, 2.0 or 3.0" } },
        { "header longer than the file", NpyBytes(Dict("<f4", "(1,)"), new byte[4])[..20], new[] { "the .npy header needs 118 bytes, but only 10 remain" } },
        { "version 2 header of 4 GB", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0, 255, 255, 255, 255, (byte)'{'], new[] { "the .npy header needs 4294967295 bytes, but only 1 remain" } },
    };

    [Theory]
    [MemberData(nameof(HostileNpy))]
    public void Hostile_npy_files_are_invalid_data_naming_the_file(string why, byte[] bytes, string[] parts)
    {
        string path = Write("hostile.npy", bytes);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Load(path));
        AssertMessage(why, e, [$"'{path}'", .. parts]);
        // The same bytes from a stream: the message names the stream instead.
        var fromStream = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes)));
        AssertMessage(why, fromStream, ["the .npy stream", .. parts]);
    }

    [Fact]
    public void A_non_zip_npz_names_the_file()
    {
        string path = Write("text.npz", Encoding.ASCII.GetBytes("just some text, no zip here"));
        AssertMessage(Assert.Throws<InvalidDataException>(() => Npz.Load(path)), $"'{path}' is not an .npz file (a zip archive of .npy files)");
        AssertMessage(Assert.Throws<InvalidDataException>(() => Npz.Load(path, "a")), $"'{path}' is not an .npz file");
        AssertMessage(Assert.Throws<InvalidDataException>(() => Npz.Read(new MemoryStream(new byte[100]))), "the .npz stream is not an .npz file");
    }

    [Fact]
    public void A_cut_off_npz_names_the_file()
    {
        string whole = Zip("whole.npz", deflate: false, ("a.npy", NpyBytes(Dict("<f4", "(4,)"), new byte[16])));
        byte[] bytes = File.ReadAllBytes(whole);
        string path = Write("cut.npz", bytes[..(bytes.Length / 2)]);
        AssertMessage(Assert.Throws<InvalidDataException>(() => Npz.LoadArrays(path)), $"'{path}' is not an .npz file");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_truncated_member_names_the_file_and_the_member(bool deflate)
    {
        string path = Zip("truncated.npz", deflate, ("ok.npy", NpyBytes(Dict("|u1", "(2,)"), new byte[2])),
                                                    ("a.npy", NpyBytes(Dict("<f4", "(10,)"), new byte[8])));
        string[] parts = { $"'{path}' member 'a.npy'", "needs 40 bytes, but only 8 remain" };
        AssertMessage(Assert.Throws<InvalidDataException>(() => Npz.Load(path)), parts);
        AssertMessage(Assert.Throws<InvalidDataException>(() => Npz.LoadArrays(path)), parts);
        AssertMessage(Assert.Throws<InvalidDataException>(() => Npz.Load(path, "a")), parts);
        using var ok = Npz.Load(path, "ok");
        Assert.Equal(new long[] { 2 }, ok.shape);
    }

    [Fact]
    public void A_member_claiming_terabytes_is_refused_before_allocating()
    {
        string path = Zip("huge.npz", deflate: true, ("x.npy", NpyBytes(Dict("<f8", "(1000000, 1000000)"), new byte[64])));
        AssertMessage(Assert.Throws<InvalidDataException>(() => Npz.Load(path)), $"'{path}' member 'x.npy'", "needs 8000000000000 bytes");
    }

    [Fact]
    public void A_corrupt_deflate_stream_names_the_file_and_the_member()
    {
        string path = Zip("corrupt.npz", deflate: true, ("a.npy", NpyBytes(Dict("<f4", "(64,)"), new byte[256])));
        byte[] bytes = File.ReadAllBytes(path);
        // The member's data starts after the 30-byte local header and the name; 0xFF opens a deflate block of the
        // reserved type 3, which no decoder accepts.
        int start = 30 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(28));
        bytes.AsSpan(start, 8).Fill(0xFF);
        File.WriteAllBytes(path, bytes);
        AssertMessage(Assert.Throws<InvalidDataException>(() => Npz.Load(path)), $"'{path}' member 'a.npy'");
    }

    /// <summary>An IDX file: magic (0, 0, type, rank), big-endian 32-bit sizes, then the body.</summary>
    private static byte[] IdxBytes(byte type, int[] dims, byte[] body)
    {
        var file = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (int d in dims)
        {
            var be = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(be, d);
            file.AddRange(be);
        }
        file.AddRange(body);
        return file.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(bytes);
        return output.ToArray();
    }

    public static TheoryData<string, byte[], string[]> HostileIdx => new()
    {
        { "negative dimension", IdxBytes(0x08, new[] { int.MinValue, 28, 28 }, new byte[16]), new[] { "negative dimension -2147483648" } },
        { "dimensions that overflow", IdxBytes(0x0E, new[] { int.MaxValue, int.MaxValue, int.MaxValue }, new byte[16]), new[] { "needs more than" } },
        { "216 TB declared, 16 bytes present", IdxBytes(0x08, new[] { 60000, 60000, 60000 }, new byte[16]), new[] { "needs 216000000000000 bytes, but only 16 remain" } },
        { "the same, gzip-compressed (length unknown)", Gzip(IdxBytes(0x08, new[] { 60000, 60000, 60000 }, new byte[16])), new[] { "needs 216000000000000 bytes, more than one array can hold" } },
        { "truncated images", IdxBytes(0x08, new[] { 2, 28, 28 }, new byte[28 * 28]), new[] { "[2, 28, 28]", "needs 1568 bytes, but only 784 remain" } },
        { "truncated images, gzip-compressed", Gzip(IdxBytes(0x08, new[] { 2, 28, 28 }, new byte[28 * 28])), new[] { "needs 1568 bytes, but only 784 remain" } },
    };

    [Theory]
    [MemberData(nameof(HostileIdx))]
    public void Hostile_idx_files_are_invalid_data_naming_the_file(string why, byte[] bytes, string[] parts)
    {
        string path = Write("hostile-idx3-ubyte", bytes);
        var e = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        AssertMessage(why, e, [$"'{path}'", .. parts]);
    }

    [Fact]
    public void Directories_are_not_reported_as_missing_files()
    {
        foreach (var read in new Action[] { () => Npy.Load(_dir), () => Npz.Load(_dir), () => Npz.LoadArrays(_dir), () => Idx.Read(_dir) })
            AssertMessage(Assert.Throws<ArgumentException>(read), $"'{_dir}' is a directory");
    }
}
