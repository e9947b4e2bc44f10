using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Orleans;

namespace ShapGen.ScaleOut;

/// <summary>
/// One explanation job over a whole data set: which explainer (a name the workers know), which rows, which seed,
/// how the rows are cut into shards. Everything here is plain data: it travels to the workers and is written to
/// the output folder, so that a restarted coordinator can tell whether the shards there belong to this job.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ExplainJob
{
    /// <summary>The name of an explainer factory registered in every worker (see <see cref="ShardExplainerRegistry"/>).</summary>
    [Id(0)] public required string Explainer { get; init; }

    /// <summary>The rows to explain.</summary>
    [Id(1)] public required DataSource Source { get; init; }

    /// <summary>The seed of every draw: each sample's draws are a function of (seed, global row index), so the result does not depend on the split.</summary>
    [Id(2)] public required long Seed { get; init; }

    /// <summary>Rows per shard: the unit of work a worker holds, writes and, when it dies, loses.</summary>
    [Id(3)] public int ShardSize { get; init; } = 256;

    /// <summary>A weights file every worker can read, handed to the explainer factory; null when the factory needs none.</summary>
    [Id(4)] public string? WeightsPath { get; init; }

    /// <summary>Settings the explainer factory reads (e.g. <c>nsamples</c>); recorded in every shard's manifest.</summary>
    [Id(5)] public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    /// <summary>shap's layout of the shard files and the merged file.</summary>
    [Id(6)] public ShapLayout Layout { get; init; } = ShapLayout.PerInput;

    /// <summary>Checks the settings; throws naming the first bad one.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Explainer)) throw new ArgumentException("Explainer must name a registered explainer factory.", nameof(Explainer));
        ArgumentNullException.ThrowIfNull(Source, nameof(Source));
        if (ShardSize < 1) throw new ArgumentOutOfRangeException(nameof(ShardSize), ShardSize, "ShardSize must be at least 1 row.");
        ArgumentNullException.ThrowIfNull(Options, nameof(Options));
    }

    /// <summary>The job as canonical JSON (options sorted by key): what the fingerprint hashes and job.json holds.</summary>
    public string ToCanonicalJson() => JsonSerializer.Serialize(new
    {
        explainer = Explainer,
        source = new { kind = Source.Kind.ToString(), location = Source.Location },
        seed = Seed,
        shardSize = ShardSize,
        weightsPath = WeightsPath,
        options = new SortedDictionary<string, string>(Options.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal),
        layout = Layout.ToString(),
    });

    /// <summary>SHA-256 of <see cref="ToCanonicalJson"/>, hex: the identity every shard manifest carries.</summary>
    public string Fingerprint() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToCanonicalJson())));
}

/// <summary>A shard: rows <see cref="Start"/> … <see cref="Start"/> + <see cref="Count"/> − 1 of the data set (global indexes).</summary>
[GenerateSerializer, Immutable]
public readonly record struct ShardRange([property: Id(0)] int Index, [property: Id(1)] long Start, [property: Id(2)] long Count)
{
    /// <summary>Cuts <paramref name="rowCount"/> rows into shards of <paramref name="shardSize"/> (the last may be shorter).</summary>
    public static IReadOnlyList<ShardRange> Plan(long rowCount, int shardSize)
    {
        if (rowCount < 1) throw new ArgumentOutOfRangeException(nameof(rowCount), rowCount, "The data set has no row to explain.");
        if (shardSize < 1) throw new ArgumentOutOfRangeException(nameof(shardSize), shardSize, "shardSize must be at least 1 row.");
        long shards = (rowCount + shardSize - 1) / shardSize;
        if (shards > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(shardSize), shardSize, $"{rowCount} rows in shards of {shardSize} make more than {int.MaxValue} shards.");
        return Enumerable.Range(0, (int)shards)
            .Select(i => new ShardRange(i, (long)i * shardSize, Math.Min(shardSize, rowCount - (long)i * shardSize))).ToArray();
    }

    /// <inheritdoc/>
    public override string ToString() => $"shard {Index} (rows {Start}..{Start + Count - 1})";
}
