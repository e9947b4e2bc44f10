using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Tests.Infrastructure;

/// <summary>
/// The test assembly's entry point: the test runner never calls it; tests start this assembly in a child process
/// (e.g. under <c>ulimit -v</c>) to run a scenario that could take the whole process down.
/// </summary>
public static class ChildProcessEntry
{
    /// <summary>Exit code of a scenario that ended with a managed exception (printed on stdout).</summary>
    public const int ManagedException = 3;

    public static int Main(string[] args)
    {
        if (args.Length is < 2 or > 3 || args[0] != "--gradient-under-memory-limit" || !long.TryParse(args[1], out long headroomMiB))
        {
            Console.Error.WriteLine("usage: ShapGen.Tests --gradient-under-memory-limit MIB [MAX_BATCH_ROWS] (tests start this; run the tests with dotnet test)");
            return 2;
        }
        try
        {
            return GradientUnderMemoryLimit(headroomMiB << 20, args.Length == 3 ? int.Parse(args[2]) : null);
        }
        catch (Exception e)
        {
            Console.WriteLine($"EXCEPTION {e.GetType().FullName}: {e.Message.Split('\n')[0]}");
            return ManagedException;
        }
    }

    /// <summary>
    /// The reliability issue's case, smaller: a CNN (Conv2d(1, 32, 3) → ReLU → Linear(21632, 10) → softmax), 100
    /// background rows, 8 explained rows, NSamples 80, default options, with the address space limited (RLIMIT_AS,
    /// as <c>ulimit -v</c>) to what the process uses once everything is loaded plus <paramref name="headroom"/>;
    /// <paramref name="maxBatchRows"/> forces batches too large for the limit, so the backward pass runs out of memory.
    /// </summary>
    private static int GradientUnderMemoryLimit(long headroom, int? maxBatchRows)
    {
        torch.manual_seed(1);
        var net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 26 * 26, 10), nn.Softmax(1));
        var background = rand(100, 1, 28, 28);
        var x = rand(8, 1, 28, 28);
        using (no_grad()) net.call(x).Dispose(); // load every kernel before measuring what is in use
        long used = long.Parse(File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmSize:", StringComparison.Ordinal))
                                   .Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        var limit = new RLimit { Current = (ulong)(used + headroom), Maximum = (ulong)(used + headroom) };
        if (setrlimit(RlimitAs, ref limit) != 0)
            throw new InvalidOperationException("setrlimit(RLIMIT_AS) failed.");
        Console.WriteLine($"LIMIT {used + headroom} ({used} in use)");
        var logger = new ConsoleLogger();
        using var explainer = new GradientExplainer(ExplainableModel.Create(net), new[] { background });
        using var result = explainer.Explain(new[] { x }, new GradientExplainOptions { NSamples = 80, Seed = 1, Logger = logger, MaxBatchRows = maxBatchRows });
        double total = result[0, 0].abs().sum().item<float>();
        Console.WriteLine($"DONE {double.IsFinite(total)}");
        return 0;
    }

    private const int RlimitAs = 9; // Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setrlimit(int resource, ref RLimit limit);

    private sealed class ConsoleLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Console.WriteLine($"LOG {eventId.Name} {formatter(state, exception)}");
    }
}
