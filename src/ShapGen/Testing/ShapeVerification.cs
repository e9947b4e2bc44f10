using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>One shape mismatch or failure found by <see cref="ShapeVerification"/>.</summary>
/// <param name="Where">The module path (or <c>forward</c>, <c>forward's return value</c>) and the batch size.</param>
/// <param name="Declared">What the model's declarations or its layers expect.</param>
/// <param name="Actual">What the run produced.</param>
public sealed record ShapeProblem(string Where, string Declared, string Actual)
{
    /// <inheritdoc />
    public override string ToString() => $"{Where}: declared {Declared}, actual {Actual}";
}

/// <summary>The outcome of a shape verification: the problems (none when the model is consistent) and what was seen.</summary>
public sealed class ShapeReport
{
    internal ShapeReport(IReadOnlyList<ShapeProblem> problems, IReadOnlyList<string> modulesEntered)
    {
        Problems = problems;
        ModulesEntered = modulesEntered;
    }

    /// <summary>Every mismatch found, in the order found.</summary>
    public IReadOnlyList<ShapeProblem> Problems { get; }

    /// <summary>The module paths forward entered at the last batch size, in call order (with their input shapes).</summary>
    public IReadOnlyList<string> ModulesEntered { get; }

    /// <summary>True when no problem was found.</summary>
    public bool Ok => Problems.Count == 0;

    /// <summary>Throws a <see cref="ShapeVerificationException"/> listing the problems, if any.</summary>
    public void ThrowIfFailed()
    {
        if (!Ok) throw new ShapeVerificationException(this);
    }

    /// <inheritdoc />
    public override string ToString() => Ok ? "shapes verified" : string.Join(Environment.NewLine, Problems);
}

/// <summary>Thrown by <see cref="ShapeReport.ThrowIfFailed"/>: the message lists every "layer path, declared vs actual shape".</summary>
public sealed class ShapeVerificationException : Exception
{
    /// <summary>Creates the exception for <paramref name="report"/>.</summary>
    public ShapeVerificationException(ShapeReport report)
        : base("Shape verification failed:" + Environment.NewLine + report) => Report = report;

    /// <summary>The report with the problems.</summary>
    public ShapeReport Report { get; }
}

/// <summary>
/// Checks a model's shape declarations by running it, for what static inference cannot see: a fresh model (from a
/// factory, never the caller's weights) gets zero weights and runs <c>forward</c> on zero inputs of its declared
/// <c>[Shape]</c>s at batch sizes 1 and 3 on the CPU; forward hooks record every module's input shape. Problems are
/// reported as "module path: declared vs actual": a layer that throws, a <c>[return: Shape]</c> or an
/// <c>[ExplainLayer(Shape = …)]</c> that differs from the run, an output whose batch size is not the input's.
/// <para>
/// <see cref="Verify{TModel}"/> runs the model in a child process, because some libtorch shape errors
/// (a 3-D <c>matmul</c>) abort the process instead of throwing; <see cref="VerifyInProcess"/> is the same check
/// without that protection.
/// </para>
/// </summary>
public static class ShapeVerification
{
    private const string FactoryVariable = "SHAPGEN_SHAPECHECK_FACTORY";
    private const string OutputVariable = "SHAPGEN_SHAPECHECK_OUTPUT";
    private static readonly int[] BatchSizes = { 1, 3 };

    /// <summary>
    /// Verifies the model that <paramref name="create"/> builds, in a child process. <paramref name="create"/> must
    /// not capture variables (<c>() =&gt; new MyModel()</c>, or a static method), since the child calls it again.
    /// </summary>
    /// <param name="create">Builds a fresh model; it is called in the child process.</param>
    /// <param name="timeout">How long the child may run; 2 minutes when null.</param>
    public static ShapeReport Verify<TModel>(Func<TModel> create, TimeSpan? timeout = null) where TModel : nn.Module
    {
        ArgumentNullException.ThrowIfNull(create);
        var method = create.Method;
        if (create.Target is not null && create.Target.GetType().GetField("<>9", BindingFlags.Static | BindingFlags.Public) is null)
            throw new ArgumentException($"The factory '{method.Name}' captures variables; pass a lambda without captures or a static method so the child process can call it.", nameof(create));
        string app = RunnableApp(typeof(TModel).Assembly, method.Module.Assembly);
        string output = Path.Combine(Path.GetTempPath(), "shapgen-shapecheck-" + Guid.NewGuid().ToString("N") + ".txt");
        var info = new ProcessStartInfo(DotnetHost(), $"exec \"{app}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DOTNET_STARTUP_HOOKS"] = typeof(ShapeVerification).Assembly.Location;
        info.Environment[FactoryVariable] = method.Module.Assembly.Location + "|" + method.MetadataToken.ToString(CultureInfo.InvariantCulture);
        info.Environment[OutputVariable] = output;
        try
        {
            using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the shape verification process.");
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit((int)(timeout ?? TimeSpan.FromMinutes(2)).TotalMilliseconds))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"Shape verification of {typeof(TModel).Name} did not finish within {timeout ?? TimeSpan.FromMinutes(2)}.");
            }
            process.WaitForExit();
            return ReadChildReport(output, process.ExitCode, stderr.Result + stdout.Result);
        }
        finally
        {
            if (File.Exists(output)) File.Delete(output);
        }
    }

    /// <summary>
    /// Verifies <paramref name="model"/> in this process: its weights are set to zero, so pass a fresh model. A libtorch
    /// error that aborts (a 3-D matmul with wrong sizes) ends this process; prefer <see cref="Verify{TModel}"/>.
    /// </summary>
    public static ShapeReport VerifyInProcess(nn.Module model) => Check(model, null);

    private static ShapeReport Check(nn.Module model, TextWriter? progress)
    {
        ArgumentNullException.ThrowIfNull(model);
        var type = model.GetType();
        var forward = type.GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.Name == "forward" && m.DeclaringType == type && m.GetParameters().All(p => p.ParameterType == typeof(Tensor)))
            .OrderByDescending(m => m.GetParameters().Length).FirstOrDefault()
            ?? throw new ArgumentException($"{type.Name} has no public forward taking tensors.", nameof(model));
        var parameters = forward.GetParameters();
        var shapes = parameters.Select(p => p.GetCustomAttribute<ShapeAttribute>()?.Dimensions
            ?? throw new ArgumentException($"Parameter '{p.Name}' of {type.Name}.forward has no [Shape].", nameof(model))).ToArray();
        var returnShape = forward.ReturnParameter.GetCustomAttribute<ShapeAttribute>()?.Dimensions;
        var layers = type.GetCustomAttributes<ExplainLayerAttribute>().ToList();

        var problems = new List<ShapeProblem>();
        var entered = new List<string>();
        var inputs = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var modules = model.named_modules().ToList();
        var removers = new List<Action>();
        foreach (var (path, module) in modules)
        {
            if (path.Length == 0) continue;
            if (module is nn.Module<Tensor, Tensor> single)
            {
                var remover = single.register_forward_pre_hook((_, input) =>
                {
                    Enter(path, input.shape);
                    return null!;
                });
                removers.Add(remover.remove);
            }
            else if (module.GetType().GetMethod("register_forward_pre_hook", new[] { typeof(Action<nn.Module>) }) is { } hook)
            {
                var remover = hook.Invoke(module, new object[] { new Action<nn.Module>(_ => Enter(path, null)) });
                if (remover?.GetType().GetMethod("remove") is { } remove) removers.Add(() => remove.Invoke(remover, null));
            }
        }

        void Enter(string path, long[]? shape)
        {
            string line = shape is null ? path : path + " " + Format(shape);
            entered.Add(line);
            if (shape is not null) inputs[path] = shape;
            progress?.WriteLine("enter\t" + line);
            progress?.Flush();
        }

        try
        {
            model.eval();
            using (torch.no_grad())
                foreach (var parameter in model.parameters())
                    parameter.zero_();
            foreach (int batch in BatchSizes)
            {
                entered.Clear();
                inputs.Clear();
                using var scope = torch.NewDisposeScope();
                var arguments = shapes.Select(s => (object)torch.zeros(new long[] { batch }.Concat(s.Select(d => (long)d)).ToArray())).ToArray();
                object? result;
                try
                {
                    using (torch.no_grad())
                        result = forward.Invoke(model, arguments);
                }
                catch (TargetInvocationException e) when (e.InnerException is not null)
                {
                    string where = entered.Count > 0 ? $"module '{entered[^1]}'" : "forward";
                    problems.Add(new ShapeProblem($"{where} (batch {batch})", "a forward that runs", FirstLine(e.InnerException.Message)));
                    continue;
                }
                if (result is Tensor output)
                {
                    if (output.ndim == 0 || output.shape[0] != batch)
                        problems.Add(new ShapeProblem($"forward's return value (batch {batch})", $"a batch dimension of {batch}", Format(output.shape)));
                    else if (returnShape is not null && !output.shape.Skip(1).SequenceEqual(returnShape.Select(d => (long)d)))
                        problems.Add(new ShapeProblem($"forward's return value (batch {batch})", "[return: Shape] " + Format(returnShape.Select(d => (long)d)), "per-sample " + Format(output.shape.Skip(1))));
                }
                foreach (var layer in layers)
                {
                    if (!modules.Any(m => m.name == layer.Path))
                        problems.Add(new ShapeProblem($"[ExplainLayer(\"{layer.Path}\")]", "a submodule at that path", "none (known: " + string.Join(", ", modules.Select(m => m.name).Where(n => n.Length > 0).Take(20)) + ")"));
                    else if (!inputs.TryGetValue(layer.Path, out var seen))
                        problems.Add(new ShapeProblem($"module '{layer.Path}' (batch {batch})", "a module that forward calls with .call", "not called (or not a single-tensor module)"));
                    else if (layer.Shape is { } declared && !seen.Skip(1).SequenceEqual(declared.Select(d => (long)d)))
                        problems.Add(new ShapeProblem($"module '{layer.Path}' (batch {batch})", "[ExplainLayer] Shape " + Format(declared.Select(d => (long)d)), "input per-sample " + Format(seen.Skip(1))));
                }
                if (problems.Any(p => p.Where.StartsWith("[ExplainLayer", StringComparison.Ordinal))) break;
            }
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
        return new ShapeReport(problems.Distinct().ToList(), entered.ToList());
    }

    /// <summary>Called by the child process's startup hook: verifies the requested model, writes the report and exits.</summary>
    internal static void RunChildIfRequested()
    {
        string? request = Environment.GetEnvironmentVariable(FactoryVariable);
        string? outputPath = Environment.GetEnvironmentVariable(OutputVariable);
        if (string.IsNullOrEmpty(request) || string.IsNullOrEmpty(outputPath)) return;
        Environment.SetEnvironmentVariable(FactoryVariable, null);
        using var output = new StreamWriter(outputPath, append: false, Encoding.UTF8);
        int code = 0;
        try
        {
            var parts = request.Split('|');
            var assembly = Assembly.LoadFrom(parts[0]);
            int token = int.Parse(parts[1], CultureInfo.InvariantCulture);
            var method = (MethodInfo)assembly.ManifestModule.ResolveMethod(token)!;
            object? target = method.IsStatic ? null : method.DeclaringType!.GetField("<>9", BindingFlags.Static | BindingFlags.Public)!.GetValue(null);
            var model = (nn.Module)method.Invoke(target, null)!;
            var report = Check(model, output);
            foreach (var problem in report.Problems)
                output.WriteLine("problem\t" + problem.Where + "\t" + problem.Declared + "\t" + problem.Actual);
            output.WriteLine("done");
        }
        catch (Exception e)
        {
            output.WriteLine("failed\t" + FirstLine((e as TargetInvocationException)?.InnerException?.ToString() ?? e.ToString()));
            code = 3;
        }
        output.Flush();
        output.Dispose();
        Environment.Exit(code);
    }

    private static ShapeReport ReadChildReport(string path, int exitCode, string processOutput)
    {
        var lines = File.Exists(path) ? File.ReadAllLines(path) : Array.Empty<string>();
        var problems = new List<ShapeProblem>();
        var entered = new List<string>();
        bool done = false;
        foreach (var line in lines)
        {
            var fields = line.Split('\t');
            switch (fields[0])
            {
                case "enter" when fields.Length == 2:
                    entered.Add(fields[1]);
                    break;
                case "problem" when fields.Length == 4:
                    problems.Add(new ShapeProblem(fields[1], fields[2], fields[3]));
                    break;
                case "failed":
                    throw new InvalidOperationException("Shape verification could not build the model: " + string.Join("\t", fields.Skip(1)));
                case "done":
                    done = true;
                    break;
            }
        }
        if (!done)
        {
            string where = entered.Count > 0 ? $"module '{entered[^1]}'" : "forward";
            string reason = processOutput.Split('\n').Select(l => l.Trim())
                .FirstOrDefault(l => l.StartsWith("what():", StringComparison.Ordinal) || l.Contains("Error", StringComparison.Ordinal)) ?? "no message";
            problems.Add(new ShapeProblem(where, "a forward that runs",
                $"libtorch aborted the process (exit code {exitCode.ToString(CultureInfo.InvariantCulture)}) after entering it: {reason}"));
        }
        return new ShapeReport(problems, entered);
    }

    /// <summary>The first of the given assemblies that can run as an application (it has a runtimeconfig.json beside it).</summary>
    private static string RunnableApp(params Assembly[] candidates)
    {
        foreach (var assembly in candidates.Append(Assembly.GetEntryAssembly()).Where(a => a is not null && !string.IsNullOrEmpty(a.Location)))
        {
            string location = assembly!.Location;
            if (File.Exists(Path.ChangeExtension(location, ".runtimeconfig.json")) && File.Exists(Path.ChangeExtension(location, ".deps.json")))
                return location;
        }
        throw new InvalidOperationException(
            "Shape verification needs an application to host the child process: the model's assembly (or the factory's) must be an executable or test project with a runtimeconfig.json.");
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        string? process = Environment.ProcessPath;
        return process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process : "dotnet";
    }

    private static string Format(IEnumerable<long> shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
