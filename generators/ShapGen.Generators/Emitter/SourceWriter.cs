using System.Text;

namespace ShapGen.Generators.Emitter;

/// <summary>A small indentation-tracking text writer for generated source.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public void Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
    }

    /// <summary>Writes several lines (split on '\n') at the current indentation.</summary>
    public void Lines(string lines)
    {
        foreach (var line in lines.Replace("\r\n", "\n").Split('\n'))
            Line(line);
    }

    public void Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
    }

    public void Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
    }

    public override string ToString() => _text.ToString();
}
