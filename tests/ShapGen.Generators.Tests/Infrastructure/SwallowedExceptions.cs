using System;
using System.Collections.Concurrent;
using System.Linq;
using ShapGen.Generators.Parser;
using Xunit;

namespace ShapGen.Generators.Tests.Infrastructure;

/// <summary>
/// Fails a test when the generator swallowed an exception while it ran (DebugGuard's hook): the generator must not
/// throw at users, but a bug in shape inference or the DeepLIFT rewrite must not pass unnoticed either.
/// </summary>
internal static class SwallowedExceptions
{
    private static readonly ConcurrentQueue<Exception> All = new();

    static SwallowedExceptions() => DebugGuard.OnSwallowed = All.Enqueue;

    /// <summary>Runs <paramref name="run"/> and asserts that no exception was swallowed meanwhile (by any test).</summary>
    public static T Watch<T>(Func<T> run)
    {
        int before = All.Count;
        var result = run();
        Assert.True(All.Count == before, "The generator swallowed: " + string.Join("\n", All.Skip(before).Select(e => e.ToString())));
        return result;
    }
}
