using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ShapGen.ScaleOut;

/// <summary>What a shard's manifest (<c>shard-NNNNN.json</c>, written after its .npz) records.</summary>
public sealed record ShardManifest
{
    /// <summary>The shard's number.</summary>
    public required int Shard { get; init; }

    /// <summary>Global index of its first row.</summary>
    public required long Start { get; init; }

    /// <summary>Its number of rows.</summary>
    public required long Count { get; init; }

    /// <summary>The .npz file's name (in the same folder).</summary>
    public required string File { get; init; }

    /// <summary>SHA-256 of the .npz file, hex.</summary>
    public required string Sha256 { get; init; }

    /// <summary>The job's fingerprint (<see cref="ExplainJob.Fingerprint"/>).</summary>
    public required string Job { get; init; }

    /// <summary>The explainer's registered name.</summary>
    public required string Explainer { get; init; }

    /// <summary>The job's seed.</summary>
    public required long Seed { get; init; }

    /// <summary>The job's explainer settings.</summary>
    public required IReadOnlyDictionary<string, string> Options { get; init; }

    /// <summary>The ShapGen version that computed the shard.</summary>
    public required string ShapGenVersion { get; init; }

    /// <summary>Who computed it (a worker's name), for the log.</summary>
    public string? Worker { get; init; }
}

/// <summary>
/// The output folder of a job: <c>job.json</c>, one <c>shard-NNNNN.npz</c> + <c>shard-NNNNN.json</c> per shard, and
/// the merged <c>explanation.npz</c>, byte for byte the file a single process writes with
/// <see cref="ExplanationExport.SaveNpz"/>. A shard counts only when its manifest names this job and range and its
/// file's SHA-256 matches, so a killed writer, a corrupted file or a shard of another job is re-run, never merged.
/// </summary>
public sealed class ShardStore
{
    /// <summary>The merged result's file name.</summary>
    public const string MergedFileName = "explanation.npz";

    private const string JobFileName = "job.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>A store on <paramref name="folder"/> for <paramref name="job"/> (the folder is created when missing).</summary>
    public ShardStore(string folder, ExplainJob job)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(job);
        Folder = Path.GetFullPath(folder);
        Job = job;
        Fingerprint = job.Fingerprint();
    }

    /// <summary>The output folder.</summary>
    public string Folder { get; }

    /// <summary>The job.</summary>
    public ExplainJob Job { get; }

    /// <summary>The job's fingerprint.</summary>
    public string Fingerprint { get; }

    /// <summary>The merged file's path.</summary>
    public string MergedPath => Path.Combine(Folder, MergedFileName);

    /// <summary>The ShapGen version written into manifests.</summary>
    public static string ShapGenVersion { get; } =
        typeof(Explanation).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>
    /// Claims the folder for this job: writes <c>job.json</c>, or checks that the one there is this job's.
    /// </summary>
    /// <exception cref="InvalidOperationException">The folder holds another job's files.</exception>
    public void Claim()
    {
        Directory.CreateDirectory(Folder);
        string path = Path.Combine(Folder, JobFileName), json = Job.ToCanonicalJson();
        if (File.Exists(path))
        {
            string there = File.ReadAllText(path);
            if (there != json)
                throw new InvalidOperationException(
                    $"The output folder '{Folder}' holds another job ({JobFileName}: {there}); this job is {json}. Use another folder or delete it.");
            return;
        }
        WriteAtomically(path, w => w.Write(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>The path of a shard's .npz file.</summary>
    public string ShardPath(int shard) => Path.Combine(Folder, $"shard-{shard:D5}.npz");

    private string ManifestPath(int shard) => Path.Combine(Folder, $"shard-{shard:D5}.json");

    /// <summary>
    /// Writes a shard's explanation and then its manifest (each to a temporary file renamed into place, so a writer
    /// killed half-way leaves no shard that counts). Returns the manifest.
    /// </summary>
    public ShardManifest Write(ShardRange range, Explanation explanation, string? worker = null)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        if (explanation.SampleCount != range.Count)
            throw new ArgumentException($"The explanation has {explanation.SampleCount} rows; {range} has {range.Count}.", nameof(explanation));
        string npz = ShardPath(range.Index);
        WriteAtomically(npz, s => ExplanationExport.WriteNpz(explanation, s, Job.Layout));
        var manifest = new ShardManifest
        {
            Shard = range.Index, Start = range.Start, Count = range.Count, File = Path.GetFileName(npz), Sha256 = Sha256Of(npz),
            Job = Fingerprint, Explainer = Job.Explainer, Seed = Job.Seed, Options = Job.Options, ShapGenVersion = ShapGenVersion, Worker = worker,
        };
        WriteAtomically(ManifestPath(range.Index), s => JsonSerializer.Serialize(s, manifest, Json));
        return manifest;
    }

    /// <summary>
    /// Null when the shard's files are there, belong to this job and range, and the .npz matches its checksum;
    /// otherwise why not (missing, another job, corrupted).
    /// </summary>
    public string? Problem(ShardRange range)
    {
        string manifestPath = ManifestPath(range.Index), npz = ShardPath(range.Index);
        if (!File.Exists(manifestPath)) return "not written";
        ShardManifest? m;
        try { m = JsonSerializer.Deserialize<ShardManifest>(File.ReadAllText(manifestPath), Json); }
        catch (JsonException e) { return $"its manifest '{manifestPath}' cannot be read: {e.Message}"; }
        if (m is null) return $"its manifest '{manifestPath}' is empty";
        if (m.Job != Fingerprint) return $"its manifest '{manifestPath}' is another job's ({m.Job})";
        if (m.Shard != range.Index || m.Start != range.Start || m.Count != range.Count)
            return $"its manifest '{manifestPath}' covers shard {m.Shard} rows {m.Start}..{m.Start + m.Count - 1}, not {range}";
        if (!File.Exists(npz)) return $"'{npz}' is missing";
        string sha = Sha256Of(npz);
        return sha == m.Sha256 ? null : $"'{npz}' fails its checksum (SHA-256 {sha}, manifest {m.Sha256}): corrupted";
    }

    /// <summary>Deletes a shard's files (before it is re-run).</summary>
    public void Delete(int shard)
    {
        File.Delete(ManifestPath(shard));
        File.Delete(ShardPath(shard));
    }

    /// <summary>
    /// Merges verified shards, in row order, into <see cref="MergedPath"/>: the per-sample arrays (values, variances,
    /// output indexes) joined along the rows, the shared ones (expected values, labels, layout) checked equal in every
    /// shard. The file is the one a single process writes for all the rows.
    /// </summary>
    /// <exception cref="InvalidDataException">A shard fails verification or its arrays do not fit the others'.</exception>
    public string Merge(IReadOnlyList<ShardRange> plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Count == 0) throw new ArgumentException("The plan has no shard.", nameof(plan));
        foreach (var range in plan)
            if (Problem(range) is { } problem) throw new InvalidDataException($"Cannot merge {range}: {problem}.");
        string first = ShardPath(plan[0].Index);
        string[] names = ShardSources.ArchiveOrder(first);
        var parts = names.ToDictionary(n => n, _ => new List<NpyArray>(plan.Count));
        foreach (var range in plan)
        {
            string path = ShardPath(range.Index);
            var arrays = Npz.LoadArrays(path);
            if (!arrays.Keys.OrderBy(k => k, StringComparer.Ordinal).SequenceEqual(names.OrderBy(k => k, StringComparer.Ordinal)))
                throw new InvalidDataException($"'{path}' has arrays [{string.Join(", ", arrays.Keys)}]; '{first}' has [{string.Join(", ", names)}].");
            foreach (var name in names) parts[name].Add(arrays[name]);
        }
        var merged = names.Select(name => new KeyValuePair<string, NpyArray>(name,
            PerSample(name) ? Concatenate(name, parts[name], plan) : Same(name, parts[name], plan))).ToArray();
        WriteAtomically(MergedPath, s => Npz.Write(s, merged));
        return MergedPath;
    }

    private static bool PerSample(string name) =>
        name.StartsWith("values_", StringComparison.Ordinal) || name.StartsWith("variances_", StringComparison.Ordinal) || name == "output_indexes";

    private NpyArray Concatenate(string name, List<NpyArray> parts, IReadOnlyList<ShardRange> plan)
    {
        var head = parts[0];
        for (int s = 0; s < parts.Count; s++)
        {
            var p = parts[s];
            if (p.Descr != head.Descr || p.FortranOrder || p.Shape.Length == 0 || p.Shape[0] != plan[s].Count || !p.Shape.Skip(1).SequenceEqual(head.Shape.Skip(1)))
                throw new InvalidDataException(
                    $"'{ShardPath(plan[s].Index)}': array '{name}' is {p.Descr} {Shapes.Format(p.Shape)}; expected {head.Descr} " +
                    $"[{plan[s].Count}, {string.Join(", ", head.Shape.Skip(1))}] ({plan[s].Count} rows, C order).");
        }
        var shape = head.Shape.ToArray();
        shape[0] = parts.Sum(p => p.Shape[0]);
        var data = new byte[parts.Sum(p => (long)p.Data.Length)];
        long at = 0;
        foreach (var p in parts)
        {
            Array.Copy(p.Data, 0L, data, at, p.Data.LongLength);
            at += p.Data.Length;
        }
        return new NpyArray(head.Descr, shape, data);
    }

    private NpyArray Same(string name, List<NpyArray> parts, IReadOnlyList<ShardRange> plan)
    {
        var head = parts[0];
        for (int s = 1; s < parts.Count; s++)
            if (parts[s].Descr != head.Descr || !parts[s].Shape.SequenceEqual(head.Shape) || !parts[s].Data.AsSpan().SequenceEqual(head.Data))
                throw new InvalidDataException(
                    $"'{ShardPath(plan[s].Index)}': array '{name}' differs from '{ShardPath(plan[0].Index)}''s; every shard of a job must have the same '{name}'.");
        return head;
    }

    private static string Sha256Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        string temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var file = File.Create(temp)) write(file);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
