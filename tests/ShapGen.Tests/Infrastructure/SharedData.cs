using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ShapGen.Tests.Infrastructure;

/// <summary>
/// The real-data folder (MNIST IDX files, the binary-MNIST set and its ONNX model): $SHAPGEN_DATA when set, else
/// ../shared/data beside the repository, which CI and every checkout of this project have and a user's clone lacks.
/// </summary>
internal static class SharedData
{
    /// <summary>The environment variable that points the tests at another data folder (it wins over ../shared/data).</summary>
    public const string Variable = "SHAPGEN_DATA";

    /// <summary>The folder: $SHAPGEN_DATA when set, else ../shared/data beside the repository root.</summary>
    public static string Dir =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } dir
            ? Path.GetFullPath(dir)
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    /// <summary>A file of the folder.</summary>
    public static string File(string name) => Path.Combine(Dir, name);

    /// <summary>The repository root: the nearest folder above the test binaries that holds ShapGen.sln.</summary>
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "ShapGen.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("ShapGen.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Null when every file is there, else why a test that needs them is skipped (naming the folder and the variable).</summary>
    public static string? MissingReason(string[] files)
    {
        string? missing = files.FirstOrDefault(f => !System.IO.File.Exists(File(f)));
        if (missing is null) return null;
        string where = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 }
            ? $"{Variable} points at '{Dir}'"
            : $"the real-data folder is '{Dir}' (../shared/data beside the repository; set {Variable} to use another)";
        return $"Needs real data: {where}, and '{missing}' is not there.";
    }
}

/// <summary>
/// A fact that needs files from the real-data folder (<see cref="SharedData"/>): it runs wherever they are (CI,
/// every checkout of this project) and reports as skipped, naming the folder and SHAPGEN_DATA, where they are not.
/// </summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    /// <summary>Skips unless every named file is in the real-data folder.</summary>
    public SharedDataFactAttribute(params string[] files) => Skip = SharedData.MissingReason(files);
}

/// <summary>A theory that needs files from the real-data folder; skipped as a whole, with the reason, where they are missing.</summary>
public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips unless every named file is in the real-data folder.</summary>
    public SharedDataTheoryAttribute(params string[] files) => Skip = SharedData.MissingReason(files);
}
