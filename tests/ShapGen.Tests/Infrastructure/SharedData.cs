using System;
using System.IO;
using Xunit;

namespace ShapGen.Tests.Infrastructure;

/// <summary>The real-data folder that CI and every checkout see beside the repository (../shared/data).</summary>
internal static class SharedData
{
    /// <summary>$SHAPGEN_DATA when set, else ../shared/data beside the repository root.</summary>
    public static string Dir =>
        Environment.GetEnvironmentVariable("SHAPGEN_DATA") is { Length: > 0 } dir
            ? dir
            : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/data"));

    public static string File(string name) => Path.Combine(Dir, name);
}

/// <summary>
/// A fact that needs files from ../shared/data: it runs wherever they are (CI, every checkout of this project) and
/// reports as skipped, naming the folder, in a user's clone that lacks them.
/// </summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute(params string[] files)
    {
        foreach (var f in files)
            if (!System.IO.File.Exists(SharedData.File(f)))
            {
                Skip = $"'{SharedData.File(f)}' is missing: this test needs the shared real-data folder (or SHAPGEN_DATA).";
                break;
            }
    }
}
