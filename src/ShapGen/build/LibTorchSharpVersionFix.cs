// Compiled by MSBuild's RoslynCodeTaskFactory from ShapGen.targets; keep it to one file with no package references.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Makes TorchSharp's native shim loadable where the system libstdc++ predates GCC 13 (e.g. Debian 12).
/// libLibTorchSharp.so declares a need for symbol version GLIBCXX_3.4.32 only for the marker symbol
/// std::ios_base_library_init, which no relocation uses. Marking that one Vernaux entry VER_FLG_WEAK lets the
/// dynamic loader accept a libstdc++ without the version; nothing else in the file changes.
/// </summary>
public sealed class ShapGenFixLibTorchSharp : Task
{
    private const string VersionName = "GLIBCXX_3.4.32";
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>Folder searched recursively for libLibTorchSharp.so.</summary>
    [Required]
    public string Directory { get; set; } = "";

    /// <summary>auto (patch only where the system libstdc++ lacks the version), always, or never.</summary>
    public string Mode { get; set; } = "auto";

    /// <inheritdoc />
    public override bool Execute()
    {
        try
        {
            if (string.Equals(Mode, "never", StringComparison.OrdinalIgnoreCase) || !System.IO.Directory.Exists(Directory))
                return true;
            string[] libraries = System.IO.Directory.GetFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories);
            if (libraries.Length == 0)
                return true;
            if (!string.Equals(Mode, "always", StringComparison.OrdinalIgnoreCase))
            {
                string? provider = FindSystemLibStdCxxWithVersion(out bool anyFound);
                if (provider != null || !anyFound)
                {
                    Log.LogMessage(MessageImportance.High,
                        "ShapGen: native fix for libLibTorchSharp.so not needed ({0}).",
                        provider != null ? provider + " provides " + VersionName : "no system libstdc++ found, not Linux");
                    return true;
                }
            }
            foreach (string library in libraries)
            {
                string outcome = Patch(library);
                Log.LogMessage(MessageImportance.High, "ShapGen: native fix for {0}: {1}.", library, outcome);
            }
            return true;
        }
        catch (Exception e)
        {
            Log.LogWarning("ShapGen: could not apply the libLibTorchSharp.so fix: {0}", e.Message);
            return true;
        }
    }

    private static string? FindSystemLibStdCxxWithVersion(out bool anyFound)
    {
        anyFound = false;
        string[] folders = { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                             "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" };
        byte[] needle = Encoding.ASCII.GetBytes(VersionName + "\0");
        foreach (string folder in folders)
        {
            string path = Path.Combine(folder, "libstdc++.so.6");
            if (!File.Exists(path))
                continue;
            anyFound = true;
            if (IndexOf(File.ReadAllBytes(path), needle) >= 0)
                return path;
        }
        return null;
    }

    /// <summary>Sets VER_FLG_WEAK on the GLIBCXX_3.4.32 need of an ELF64 little-endian file, atomically.</summary>
    public static string Patch(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            return "not an ELF file, left as is";
        if (elf[4] != 2 || elf[5] != 1)
            return "not ELF64 little-endian, left as is";
        long sectionTable = (long)U64(elf, 0x28);
        int sectionSize = U16(elf, 0x3A), sectionCount = U16(elf, 0x3C);
        for (int s = 0; s < sectionCount; s++)
        {
            long header = sectionTable + (long)s * sectionSize;
            if (U32(elf, header + 4) != ShtGnuVerneed)
                continue;
            long offset = (long)U64(elf, header + 0x18);
            uint count = U32(elf, header + 0x2C);
            long strings = (long)U64(elf, sectionTable + (long)U32(elf, header + 0x28) * sectionSize + 0x18);
            long need = offset;
            for (uint n = 0; n < count; n++)
            {
                long aux = need + U32(elf, need + 8);
                for (int a = 0; a < U16(elf, need + 2); a++)
                {
                    if (CString(elf, strings + U32(elf, aux + 8)) == VersionName)
                    {
                        ushort flags = U16(elf, aux + 4);
                        if ((flags & VerFlgWeak) != 0)
                            return "already applied";
                        flags |= VerFlgWeak;
                        elf[aux + 4] = (byte)flags;
                        elf[aux + 5] = (byte)(flags >> 8);
                        // Write beside and move over, so that a hard link into the NuGet cache is never modified.
                        string temporary = path + ".shapgen-tmp";
                        File.WriteAllBytes(temporary, elf);
                        File.Delete(path);
                        File.Move(temporary, path);
                        return "applied (VER_FLG_WEAK set on the " + VersionName + " need)";
                    }
                    aux += U32(elf, aux + 12);
                }
                need += U32(elf, need + 12);
            }
        }
        return "no " + VersionName + " need, left as is";
    }

    private static ushort U16(byte[] b, long o) => (ushort)(b[o] | b[o + 1] << 8);
    private static uint U32(byte[] b, long o) => (uint)(U16(b, o) | U16(b, o + 2) << 16);
    private static ulong U64(byte[] b, long o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;

    private static string CString(byte[] b, long o)
    {
        long end = o;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }
}
