using System;
using System.Globalization;
using System.IO;

namespace ShapGen;

/// <summary>
/// What the process may still allocate on the host: the smallest of the host's available memory (MemAvailable),
/// the address-space limit less the address space in use (RLIMIT_AS, <c>ulimit -v</c>), and the cgroup v2 limit
/// less its current use (<c>memory.max</c> − <c>memory.current</c>, the tightest over the cgroup and its parents).
/// A batch sized from free host memory alone can exceed a container's or a <c>ulimit</c>'s limit, and an
/// allocation that fails inside libtorch's backward pass aborts the process.
/// </summary>
internal static class ProcessMemory
{
    /// <summary>The limit name when the host's available memory is the tightest.</summary>
    public const string HostLimit = "MemAvailable";

    /// <summary>The bytes the process may still allocate, and the name of the limit that decides it.</summary>
    public static (long Bytes, string Limit) Headroom()
    {
        long bytes = AvailableHostBytes();
        string limit = HostLimit;
        if (AddressSpaceHeadroom() is long address && address < bytes) (bytes, limit) = (address, "the address-space limit (RLIMIT_AS)");
        if (CgroupHeadroom() is long cgroup && cgroup < bytes) (bytes, limit) = (cgroup, "the cgroup memory limit (memory.max)");
        return (Math.Max(0, bytes), limit);
    }

    /// <summary>Available host memory: MemAvailable from /proc/meminfo on Linux, else what the GC reports.</summary>
    public static long AvailableHostBytes() =>
        ReadKiloBytes("/proc/meminfo", "MemAvailable:") ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>RLIMIT_AS (soft) less the current virtual size, or null when unlimited or unknown.</summary>
    public static long? AddressSpaceHeadroom()
    {
        long? limit = null;
        foreach (var line in ReadLines("/proc/self/limits"))
            if (line.StartsWith("Max address space", StringComparison.Ordinal))
            {
                var parts = line["Max address space".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length > 0 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long soft))
                    limit = soft;
            }
        if (limit is null) return null;
        long used = ReadKiloBytes("/proc/self/status", "VmSize:") ?? 0;
        return limit.Value - used;
    }

    /// <summary>The smallest memory.max − memory.current over this process's cgroup v2 and its parents, or null.</summary>
    public static long? CgroupHeadroom()
    {
        string? path = null;
        foreach (var line in ReadLines("/proc/self/cgroup"))
            if (line.StartsWith("0::", StringComparison.Ordinal)) path = line[3..];
        if (path is null) return null;
        long? best = null;
        for (string dir = path; ; dir = Path.GetDirectoryName(dir) ?? "/")
        {
            string root = "/sys/fs/cgroup" + (dir == "/" ? "" : dir);
            if (ReadNumber(Path.Combine(root, "memory.max")) is long max && ReadNumber(Path.Combine(root, "memory.current")) is long current)
                best = Math.Min(best ?? long.MaxValue, max - current);
            if (dir == "/" || dir.Length == 0) break;
        }
        return best;
    }

    /// <summary>
    /// Runs <paramref name="body"/> and returns how far the process's resident memory rose above its level before
    /// (the peak, VmHWM, reset through /proc/self/clear_refs), or 0 where that cannot be read. It sees what no
    /// tensor handle shows: activations autograd saves, intermediates a Sequential frees, backward's buffers.
    /// </summary>
    public static long PeakGrowth(Action body)
    {
        bool reset = false;
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            reset = true;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        catch (PlatformNotSupportedException) { }
        long? before = reset ? ReadKiloBytes("/proc/self/status", "VmRSS:") : null;
        body();
        long? peak = reset ? ReadKiloBytes("/proc/self/status", "VmHWM:") : null;
        return before is long b && peak is long p ? Math.Max(0, p - b) : 0;
    }

    private static long? ReadKiloBytes(string file, string key)
    {
        foreach (var line in ReadLines(file))
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var parts = line[key.Length..].Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length > 0 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb))
                    return kb * 1024;
            }
        return null;
    }

    private static long? ReadNumber(string file)
    {
        foreach (var line in ReadLines(file))
            return long.TryParse(line.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : null; // "max": no limit
        return null;
    }

    private static string[] ReadLines(string file)
    {
        try { return File.Exists(file) ? File.ReadAllLines(file) : Array.Empty<string>(); }
        catch (IOException) { return Array.Empty<string>(); }
        catch (UnauthorizedAccessException) { return Array.Empty<string>(); }
    }
}
