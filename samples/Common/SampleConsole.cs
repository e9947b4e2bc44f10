using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Spectre.Console;

namespace ShapGen.Samples;

/// <summary>
/// The samples' console: progress bars over <see cref="IProgress{T}"/> of <see cref="ExplainProgress"/> and summary
/// tables, drawn with Spectre.Console on a terminal. When the output is redirected (a log file, CI) it writes plain
/// text: no ANSI escapes, no colours, and progress as a line at 25, 50, 75 and 95–100 % (Spectre's fallback).
/// </summary>
/// <example>
/// <code>
/// using var result = SampleConsole.Progress("explaining", p => explainer.Explain(batch, new() { Progress = p }));
/// SampleConsole.Table("Top classes", new[] { "image", "class", "score" }, rows);
/// </code>
/// </example>
public static class SampleConsole
{
    /// <summary>The console the samples write to: standard output, plain when it is redirected.</summary>
    public static IAnsiConsole Out { get; } = Create(Console.Out, Console.IsOutputRedirected);

    /// <summary>
    /// A console over <paramref name="writer"/>. Spectre decides ANSI support from the TERM variable even when the
    /// output goes to a file, so redirection is handled here: everything off.
    /// </summary>
    /// <param name="writer">Where the text goes.</param>
    /// <param name="redirected">True for a file or a pipe: plain text.</param>
    public static IAnsiConsole Create(TextWriter writer, bool redirected) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
        ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
    });

    /// <summary>Runs one long step with a progress bar fed by the <see cref="IProgress{T}"/> it receives, and returns its result.</summary>
    /// <param name="label">What the step does, shown beside the bar.</param>
    /// <param name="step">The work; it passes the progress to the explainer's options.</param>
    /// <param name="console">Where to draw; null for <see cref="Out"/>.</param>
    public static T Progress<T>(string label, Func<IProgress<ExplainProgress>, T> step, IAnsiConsole? console = null)
    {
        console ??= Out;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(label), maxValue: 1);
                result = step(new TaskProgress(task));
                task.Value = task.MaxValue;
            });
        // Spectre's plain fallback prints at its next one-second tick, so a short step would end unreported.
        if (!console.Profile.Capabilities.Interactive)
            console.WriteLine($"{label}: done in {clock.Elapsed.TotalSeconds:F1} s");
        return result;
    }

    /// <summary>Prints a table with a title; cells are plain text (no markup).</summary>
    /// <param name="title">The caption above the table.</param>
    /// <param name="columns">Column headers.</param>
    /// <param name="rows">One list of cell texts per row, as many as there are columns.</param>
    /// <param name="console">Where to print; null for <see cref="Out"/>.</param>
    public static void Table(string title, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows, IAnsiConsole? console = null)
    {
        var table = new Table { Title = new TableTitle(Markup.Escape(title)) };
        foreach (var c in columns) table.AddColumn(new TableColumn(new Text(c)));
        foreach (var row in rows)
        {
            if (row.Count != columns.Count)
                throw new ArgumentException($"A row of table '{title}' has {row.Count} cells; the table has {columns.Count} columns.", nameof(rows));
            table.AddRow(row.Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell)).ToArray());
        }
        (console ?? Out).Write(table);
    }

    /// <summary>Prints one line of plain text (no markup).</summary>
    /// <param name="text">The line.</param>
    /// <param name="console">Where to print; null for <see cref="Out"/>.</param>
    public static void Line(string text, IAnsiConsole? console = null) => (console ?? Out).WriteLine(text);

    private sealed class TaskProgress : IProgress<ExplainProgress>
    {
        private readonly ProgressTask _task;

        public TaskProgress(ProgressTask task) => _task = task;

        public void Report(ExplainProgress value)
        {
            _task.MaxValue = Math.Max(1, value.Total);
            _task.Value = value.Done;
        }
    }
}
