using ShapGen.Generators.Emitter;
using Xunit;

namespace ShapGen.Generators.Tests;

/// <summary>The emitter's writer indents every line of a template by the nesting depth and leaves empty lines empty.</summary>
public class SourceWriterTests
{
    [Fact]
    public void TemplatesAreIndentedByTheBlockDepthOnly()
    {
        var writer = new SourceWriter();
        writer.OpenBlock("class A");
        writer.WriteLine("""
            int X =>
                1;

            int Y;
            """);
        writer.CloseBlock();
        Assert.Equal(0, writer.Indentation);
        Assert.Equal("class A\n{\n    int X =>\n        1;\n\n    int Y;\n}\n", writer.ToString());
    }
}
