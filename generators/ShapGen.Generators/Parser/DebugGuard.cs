using System;
using System.Runtime.ExceptionServices;

namespace ShapGen.Generators.Parser;

/// <summary>
/// Makes swallowed exceptions visible: the generator never throws at users, but in a DEBUG build a bug in the
/// best-effort parts (shape inference, the DeepLIFT rewrite) is rethrown, and tests can observe it in any build.
/// </summary>
internal static class DebugGuard
{
    /// <summary>Called with every exception the generator swallows (a test hook; null in normal use).</summary>
    public static Action<Exception>? OnSwallowed { get; set; }

    /// <summary>Records <paramref name="exception"/>; rethrows it in DEBUG builds.</summary>
    public static void Swallowed(Exception exception)
    {
        OnSwallowed?.Invoke(exception);
#if DEBUG
        ExceptionDispatchInfo.Capture(exception).Throw();
#endif
    }
}
