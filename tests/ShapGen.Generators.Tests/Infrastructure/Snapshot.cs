using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using Xunit.Sdk;

namespace ShapGen.Generators.Tests.Infrastructure;

/// <summary>
/// Snapshot checks with Verify's file conventions: <c>Snapshots/Name.verified.cs</c> beside the test; on a mismatch a
/// <c>Name.received.cs</c> is written and the test fails with a diff. Set SHAPGEN_ACCEPT_SNAPSHOTS=1 to accept.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "SHAPGEN_ACCEPT_SNAPSHOTS";

    public static void Verify(string actual, string name, [CallerFilePath] string testFile = "")
    {
        actual = Normalize(actual).Replace("\"" + Emitter.ModelEmitter.Version + "\"", "\"{version}\"");
        string directory = Path.Combine(Path.GetDirectoryName(testFile)!, "Snapshots");
        string verified = Path.Combine(directory, name + ".verified.cs");
        string received = Path.Combine(directory, name + ".received.cs");
        string? expected = File.Exists(verified) ? Normalize(File.ReadAllText(verified)) : null;
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verified, actual);
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        Directory.CreateDirectory(directory);
        File.WriteAllText(received, actual);
        throw new XunitException(expected is null
            ? $"No snapshot {verified}; wrote {received}. Review it and rename it to .verified.cs (or run with {AcceptVariable}=1)."
            : $"Snapshot {name} differs; wrote {received}.\n{Diff(expected, actual)}");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n");

    private static string Diff(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        var text = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < Math.Max(a.Length, b.Length) && shown < 40; i++)
        {
            string left = i < a.Length ? a[i] : "<end>";
            string right = i < b.Length ? b[i] : "<end>";
            if (left == right) continue;
            text.Append("line ").Append(i + 1).Append('\n').Append("- ").Append(left).Append('\n').Append("+ ").Append(right).Append('\n');
            shown++;
        }
        return text.ToString();
    }
}
