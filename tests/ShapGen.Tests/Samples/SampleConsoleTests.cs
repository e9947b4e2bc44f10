using System;
using System.IO;
using System.Linq;
using ShapGen.Samples;
using Xunit;

namespace ShapGen.Tests.Samples;

/// <summary>The samples' Spectre.Console helper writes plain text to a redirected output, and the library does not depend on Spectre.</summary>
public sealed class SampleConsoleTests
{
    [Fact]
    public void Redirected_output_has_no_escape_sequences_and_keeps_the_content()
    {
        var writer = new StringWriter();
        var console = SampleConsole.Create(writer, redirected: true);
        int value = SampleConsole.Progress("explaining [batch]", progress =>
        {
            for (int i = 1; i <= 4; i++) progress.Report(new ExplainProgress(i, 4));
            return 42;
        }, console);
        SampleConsole.Table("Top [classes]", new[] { "image", "class" }, new[] { new[] { "0", "tench" }, new[] { "1", "goldfish" } }, console);
        string text = writer.ToString();

        Assert.Equal(42, value);
        Assert.DoesNotContain('\u001b', text);
        Assert.Contains("explaining [batch]: done in", text);   // markup characters kept as text
        Assert.Contains("Top [classes]", text);
        Assert.Contains("goldfish", text);
        Assert.Throws<ArgumentException>(() => SampleConsole.Table("t", new[] { "a", "b" }, new[] { new[] { "only one" } }, console));
    }

    [Fact]
    public void The_library_does_not_reference_spectre()
    {
        Assert.DoesNotContain(typeof(Explanation).Assembly.GetReferencedAssemblies(), a => a.Name!.StartsWith("Spectre", StringComparison.Ordinal));
        Assert.DoesNotContain(typeof(OnnxModel).Assembly.GetReferencedAssemblies(), a => a.Name!.StartsWith("Spectre", StringComparison.Ordinal));
    }
}
