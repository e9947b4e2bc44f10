using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ShapGen.ScaleOut;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Orleans.Tests;

public sealed class ShardSourceTests
{
    [Fact]
    public void An_idx_file_gives_images_scaled_to_one_with_a_channel()
    {
        using var temp = new TempFolder();
        string path = temp["images-idx3-ubyte"];
        // IDX by hand: magic 0x00000803 (unsigned bytes, 3 dims), 3 images of 2×2, pixel k of image i = 10·i + k.
        var bytes = new List<byte> { 0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2 };
        for (int i = 0; i < 3; i++) for (int k = 0; k < 4; k++) bytes.Add((byte)(10 * i + k));
        File.WriteAllBytes(path, bytes.ToArray());

        using var source = ShardSources.Open(DataSource.Idx(path));
        Assert.Equal(3, source.RowCount);
        var rows = source.ReadRows(1, 2);
        Assert.Single(rows);
        Assert.Equal(new long[] { 2, 1, 2, 2 }, rows[0].shape);
        Assert.Equal(new[] { 10f, 11, 12, 13, 20, 21, 22, 23 }.Select(v => v / 255f), rows[0].data<float>().ToArray());
        rows[0].Dispose();
    }

    [Fact]
    public void An_npz_gives_one_input_per_array_in_archive_order()
    {
        using var temp = new TempFolder();
        string path = temp["two.npz"];
        using var b = arange(8, dtype: float32).reshape(4, 2);
        using var a = arange(4, dtype: float64);
        Npz.Save(path, new[] { new KeyValuePair<string, Tensor>("zeta", b), new("alpha", a) });

        using var source = ShardSources.Open(DataSource.Npz(path));
        var rows = source.ReadRows(2, 2);
        Assert.Equal(2, rows.Length);
        Assert.Equal(new[] { 4f, 5, 6, 7 }, rows[0].data<float>().ToArray());
        Assert.Equal(new[] { 2.0, 3 }, rows[1].data<double>().ToArray());
        foreach (var r in rows) r.Dispose();
    }

    [Fact]
    public void A_folder_of_npy_gives_one_sample_per_file_in_name_order()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp["npy"]);
        for (int i = 0; i < 3; i++)
        {
            using var t = full(new long[] { 2, 2 }, (float)i);
            Npy.Save(Path.Combine(temp["npy"], $"sample-{2 - i}.npy"), t);
        }
        using var source = ShardSources.Open(DataSource.NpyFolder(temp["npy"]));
        Assert.Equal(3, source.RowCount);
        var rows = source.ReadRows(0, 3);
        Assert.Equal(new long[] { 3, 2, 2 }, rows[0].shape);
        Assert.Equal(new[] { 2f, 1, 0 }, rows[0].select(1, 0).select(1, 0).data<float>().ToArray());
        rows[0].Dispose();
    }

    [Fact]
    public void Rows_outside_the_data_set_are_refused_naming_the_range()
    {
        using var temp = new TempFolder();
        using var source = ShardSources.Open(TestExplainers.WriteRows(temp["data"], 4));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => source.ReadRows(3, 2));
        Assert.Contains("Rows 3..4", e.Message);
        Assert.Contains("4 rows", e.Message);
    }

    [Fact]
    public void A_name_nobody_registered_is_refused_naming_the_registered_ones()
    {
        var registry = new ShardExplainerRegistry().AddSource("mine", () => throw new InvalidOperationException());
        var e = Assert.Throws<ArgumentException>(() => ShardSources.Open(DataSource.Registered("theirs"), registry.Sources));
        Assert.Contains("'theirs'", e.Message);
        Assert.Contains("[mine]", e.Message);
    }
}
