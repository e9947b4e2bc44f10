using System;
using System.IO;
using System.Linq;
using System.Threading;
using ShapGen.ScaleOut;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Orleans.Tests;

/// <summary>The job model without Orleans: plan, write, verify and merge shards in one process.</summary>
public sealed class ShardStoreTests
{
    private static ShardStore RunAllShards(string engine, TempFolder temp, long rows, int shardSize)
    {
        var job = TestExplainers.Job(engine, TestExplainers.WriteRows(temp["data"], rows), shardSize);
        var store = new ShardStore(temp["out"], job);
        store.Claim();
        using var source = ShardSources.Open(job.Source);
        using var explainer = TestExplainers.Register(new ShardExplainerRegistry()).Create(new ShardExplainerContext(job, CPU));
        foreach (var range in ShardRange.Plan(source.RowCount, shardSize))
        {
            using var scope = NewDisposeScope();
            using var result = explainer.Explain(source.ReadRows(range.Start, range.Count), range.Start, job.Seed, CancellationToken.None);
            store.Write(range, result);
        }
        return store;
    }

    public static TheoryData<string, int> EnginesAndShardSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (var engine in new[] { "gradient", "deep", "kernel" })
            foreach (int size in new[] { 1, 2, 3, 11 })
                data.Add(engine, size);
        return data;
    }

    [Theory]
    [MemberData(nameof(EnginesAndShardSizes))]
    public void Merged_shards_are_the_single_process_file_byte_for_byte(string engine, int shardSize)
    {
        using var temp = new TempFolder();
        var store = RunAllShards(engine, temp, rows: 11, shardSize);
        store.Merge(ShardRange.Plan(11, shardSize));

        using var rows = TestExplainers.Rows(11);
        byte[] single = TestExplainers.SingleProcessNpz(engine, rows, store.Job.Seed);
        var expected = Npz.Read(new MemoryStream(single));
        var merged = Npz.LoadArrays(store.MergedPath);
        Assert.Equal(expected.Keys.Order(), merged.Keys.Order());
        foreach (var name in expected.Keys)
        {
            Assert.Equal(expected[name].Shape, merged[name].Shape);
            if (!expected[name].Data.AsSpan().SequenceEqual(merged[name].Data))
            {
                using var e = expected[name].ToTensor(); using var m = merged[name].ToTensor();
                Assert.Fail($"{engine}: array '{name}' differs from the single-process one by up to {(e.to(float64) - m.to(float64)).abs().max().item<double>()} ({e.dtype})");
            }
        }
        Assert.Equal(11, merged["values_0"].Shape[0]);
        Assert.True(single.AsSpan().SequenceEqual(File.ReadAllBytes(store.MergedPath)), $"{engine}: the merged file is not the single-process file byte for byte");
    }

    [Fact]
    public void Shards_of_another_seed_differ_so_equality_is_not_an_accident()
    {
        using var temp = new TempFolder();
        var store = RunAllShards("gradient", temp, rows: 5, shardSize: 2);
        store.Merge(ShardRange.Plan(5, 2));
        using var rows = TestExplainers.Rows(5);
        var other = Npz.Read(new MemoryStream(TestExplainers.SingleProcessNpz("gradient", rows, store.Job.Seed + 1)));
        Assert.False(other["values_0"].Data.AsSpan().SequenceEqual(Npz.LoadArrays(store.MergedPath)["values_0"].Data));
    }

    [Fact]
    public void A_corrupted_shard_fails_its_checksum_and_is_not_merged()
    {
        using var temp = new TempFolder();
        var store = RunAllShards("deep", temp, rows: 6, shardSize: 2);
        var plan = ShardRange.Plan(6, 2);
        Assert.All(plan, r => Assert.Null(store.Problem(r)));

        string path = store.ShardPath(1);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^40] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        Assert.Null(store.Problem(plan[0]));
        Assert.Contains("fails its checksum", store.Problem(plan[1]));
        var e = Assert.Throws<InvalidDataException>(() => store.Merge(plan));
        Assert.Contains("shard 1", e.Message);
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public void A_missing_shard_and_a_shard_of_another_range_are_reported()
    {
        using var temp = new TempFolder();
        var store = RunAllShards("deep", temp, rows: 6, shardSize: 2);
        store.Delete(2);
        Assert.Equal("not written", store.Problem(new ShardRange(2, 4, 2)));
        Assert.Contains("not shard 0 (rows 0..2)", store.Problem(new ShardRange(0, 0, 3)));
    }

    [Fact]
    public void A_folder_of_another_job_is_refused_naming_both()
    {
        using var temp = new TempFolder();
        var source = TestExplainers.WriteRows(temp["data"], 4);
        new ShardStore(temp["out"], TestExplainers.Job("deep", source, 2)).Claim();
        new ShardStore(temp["out"], TestExplainers.Job("deep", source, 2)).Claim();
        var e = Assert.Throws<InvalidOperationException>(() => new ShardStore(temp["out"], TestExplainers.Job("deep", source, 2, seed: 7)).Claim());
        Assert.Contains(temp["out"], e.Message);
        Assert.Contains("\"seed\":7", e.Message);
    }

    [Fact]
    public void A_shard_of_another_job_in_the_folder_does_not_count()
    {
        using var temp = new TempFolder();
        var store = RunAllShards("deep", temp, rows: 4, shardSize: 2);
        var other = new ShardStore(temp["out"], store.Job with { Seed = store.Job.Seed + 1 });
        Assert.Contains("another job", other.Problem(new ShardRange(0, 0, 2)));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(10, 3)]
    [InlineData(12, 4)]
    [InlineData(5, 100)]
    public void A_plan_covers_every_row_once_in_order(long rows, int shardSize)
    {
        var plan = ShardRange.Plan(rows, shardSize);
        var covered = plan.SelectMany(r => Enumerable.Range((int)r.Start, (int)r.Count)).ToArray();
        Assert.Equal(Enumerable.Range(0, (int)rows), covered);
        Assert.Equal(Enumerable.Range(0, plan.Count), plan.Select(r => r.Index));
        Assert.All(plan, r => Assert.InRange(r.Count, 1, shardSize));
    }

    [Fact]
    public void A_plan_refuses_no_rows_and_a_zero_shard_size_naming_them()
    {
        Assert.Equal("rowCount", Assert.Throws<ArgumentOutOfRangeException>(() => ShardRange.Plan(0, 3)).ParamName);
        Assert.Equal("shardSize", Assert.Throws<ArgumentOutOfRangeException>(() => ShardRange.Plan(3, 0)).ParamName);
    }
}
