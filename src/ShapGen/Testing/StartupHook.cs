/// <summary>
/// The .NET startup hook of a shape-verification child process (DOTNET_STARTUP_HOOKS points at this assembly). The
/// runtime requires exactly this name in the global namespace; it does nothing unless ShapGen started the process.
/// </summary>
internal static class StartupHook
{
    /// <summary>Runs the requested verification and exits, or returns at once in any other process.</summary>
    public static void Initialize() => ShapGen.ShapeVerification.RunChildIfRequested();
}
