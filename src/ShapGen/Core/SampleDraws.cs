using System;

namespace ShapGen;

/// <summary>What a random draw is for; each purpose has its own stream, so adding one never shifts another.</summary>
internal enum DrawPurpose
{
    BackgroundIndex = 1,
    Alpha = 2,
    Noise = 3,
    Coalitions = 4,
    Permutations = 5,
    RiseMasks = 6,
    RiseKeepEstimate = 7,
    LimeSamples = 8,
}

/// <summary>
/// Random draws keyed by (seed, purpose, global sample index, draw index), never by position in a batch: a sample's
/// draws are the same whatever the batch size and however the rows are split over calls
/// (<see cref="ExplainOptions.SampleIndexOffset"/>), and nothing is drawn for rows that are not being computed.
/// Counter-based (SplitMix64 finalisers), so any draw is computed directly without a stream to replay.
/// </summary>
internal readonly struct SampleDraws
{
    private readonly ulong _seed;
    private readonly long _offset;

    /// <summary>Draws for one call: <paramref name="seed"/>, and the global index of its first sample.</summary>
    public SampleDraws(long seed, long sampleIndexOffset)
    {
        _seed = unchecked((ulong)seed);
        _offset = sampleIndexOffset;
    }

    /// <summary>For a call's options: its seed (or a fresh one) and its sample index offset.</summary>
    public static SampleDraws For(ExplainOptions options) =>
        new(options.Seed ?? Random.Shared.NextInt64(), options.SampleIndexOffset);

    /// <summary>A 64-bit seed for the stream of (purpose, <paramref name="sample"/> of this call, <paramref name="stream"/>).</summary>
    public ulong StreamSeed(DrawPurpose purpose, long sample, long stream = 0) =>
        Hash(Hash(Hash(_seed ^ Mix((ulong)purpose)) ^ Mix(unchecked((ulong)(_offset + sample)))) ^ Mix(unchecked((ulong)stream) + 0x51ED27UL));

    /// <summary>The <paramref name="draw"/>-th uniform double in [0, 1) of a sample's stream for <paramref name="purpose"/>.</summary>
    public double Uniform(DrawPurpose purpose, long sample, long draw) =>
        (Hash(StreamSeed(purpose, sample) ^ Mix(unchecked((ulong)draw))) >> 11) * (1.0 / (1UL << 53));

    /// <summary>The <paramref name="draw"/>-th integer in [0, <paramref name="count"/>) of a sample's stream.</summary>
    public long Index(DrawPurpose purpose, long sample, long draw, long count)
    {
        ulong bits = Hash(StreamSeed(purpose, sample) ^ Mix(unchecked((ulong)draw)));
        return (long)Math.BigMul(bits, (ulong)count, out _); // Lemire's multiply-high: unbiased enough for count ≪ 2^64
    }

    /// <summary>A <see cref="Random"/> for a sample's stream (for sequential algorithms such as coalition sampling).</summary>
    public Random RandomFor(DrawPurpose purpose, long sample)
    {
        ulong s = StreamSeed(purpose, sample);
        return new Random(unchecked((int)(s ^ (s >> 32))));
    }

    private static ulong Mix(ulong x) => unchecked(x * 0x9E3779B97F4A7C15UL);

    private static ulong Hash(ulong z)
    {
        unchecked
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
