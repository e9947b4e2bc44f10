using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using ShapGen.Tests.Infrastructure;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.IO;

public sealed class IdxTests
{
    private static string Images => Path.Combine(SharedData.Dir, "mnist-t10k-images-idx3-ubyte.gz");
    private static string Labels => Path.Combine(SharedData.Dir, "mnist-t10k-labels-idx1-ubyte.gz");

    [SharedDataFact("mnist-t10k-images-idx3-ubyte.gz", "mnist-t10k-labels-idx1-ubyte.gz")]
    public void Mnist_test_labels_are_10000_digits_starting_7_2_1_0_4()
    {
        using var labels = Idx.ReadLabels(Labels);
        Assert.Equal(new long[] { 10000 }, labels.shape);
        Assert.Equal(ScalarType.Int64, labels.dtype);
        var values = labels.data<long>().ToArray();
        Assert.Equal(new long[] { 7, 2, 1, 0, 4 }, values.Take(5));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), values.Distinct().OrderBy(v => v));
    }

    [SharedDataFact("mnist-t10k-images-idx3-ubyte.gz", "mnist-t10k-labels-idx1-ubyte.gz")]
    public void Mnist_test_images_are_10000_uint8_28_by_28()
    {
        using var images = Idx.ReadImages(Images);
        Assert.Equal(new long[] { 10000, 28, 28 }, images.shape);
        Assert.Equal(ScalarType.Byte, images.dtype);
        Assert.Equal(0, images.min().item<byte>());
        Assert.Equal(255, images.max().item<byte>());
    }

    [SharedDataFact("mnist-t10k-images-idx3-ubyte.gz", "mnist-t10k-labels-idx1-ubyte.gz")]
    public void Uncompressed_files_and_counts_read_the_same_data()
    {
        string raw = Path.GetTempFileName();
        try
        {
            using (var gz = new GZipStream(File.OpenRead(Images), CompressionMode.Decompress))
            using (var output = File.Create(raw))
                gz.CopyTo(output);
            using var all = Idx.ReadImages(Images);
            using var first = Idx.ReadImages(raw, count: 3);
            Assert.Equal(new long[] { 3, 28, 28 }, first.shape);
            Assert.Equal(all[..3].contiguous().bytes.ToArray(), first.bytes.ToArray());
            using var generic = Idx.Read(raw);
            Assert.Equal(new long[] { 10000, 28, 28 }, generic.shape);
        }
        finally
        {
            File.Delete(raw);
        }
    }

    [SharedDataFact("mnist-t10k-images-idx3-ubyte.gz", "mnist-t10k-labels-idx1-ubyte.gz")]
    public void Find_locates_the_pair_of_a_split_in_a_folder()
    {
        var found = Idx.Find(SharedData.Dir);
        Assert.NotNull(found);
        Assert.Equal(Images, found.Value.Images);
        Assert.Equal(Labels, found.Value.Labels);
        Assert.Null(Idx.Find(SharedData.Dir, "train"));
        Assert.Null(Idx.Find(Path.Combine(SharedData.Dir, "no-such-folder")));
    }

    [SharedDataFact("mnist-t10k-images-idx3-ubyte.gz", "mnist-t10k-labels-idx1-ubyte.gz")]
    public void Wrong_kind_of_file_is_rejected_with_its_magic_number()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(Labels));
        Assert.Contains("2049", ex.Message);
        Assert.Contains("2051", ex.Message);
        Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(Path.Combine(SharedData.Dir, "binary-mnist.npz")));
        Assert.Throws<ArgumentOutOfRangeException>(() => Idx.ReadLabels(Labels, count: 10001));
    }

    [Fact]
    public void Big_endian_multi_byte_types_are_decoded()
    {
        // A hand-made IDX file: int32 (0x0C), 1 dimension of 3: 1, -2, 65536.
        var bytes = new byte[] { 0, 0, 0x0C, 1, 0, 0, 0, 3, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE, 0, 1, 0, 0 };
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
            using var t = Idx.Read(path);
            Assert.Equal(ScalarType.Int32, t.dtype);
            Assert.Equal(new[] { 1, -2, 65536 }, t.data<int>().ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
