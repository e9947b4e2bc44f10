using System;
using System.Diagnostics;
using System.Text;

namespace ShapGen.Generators.Emitter;

/// <summary>
/// Writes generated source, indenting every line by <see cref="Indentation"/> levels of four spaces (after
/// dotnet/runtime's SourceWriter): templates carry only their relative indentation, never the nesting depth.
/// </summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indentation;

    /// <summary>Nesting depth of what is written next; back at zero when the file is done.</summary>
    public int Indentation
    {
        get => _indentation;
        set
        {
            Debug.Assert(value >= 0, "Indentation below zero: a block was closed twice.");
            _indentation = Math.Max(0, value);
        }
    }

    /// <summary>Writes one line, or each line of a multi-line template, at the current indentation (empty lines stay empty).</summary>
    public void WriteLine(string text = "")
    {
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            if (line.Length > 0) _text.Append(' ', 4 * _indentation).Append(line);
            _text.Append('\n');
        }
    }

    /// <summary>Writes <paramref name="header"/>, an opening brace, and indents what follows.</summary>
    public void OpenBlock(string header)
    {
        WriteLine(header);
        WriteLine("{");
        Indentation++;
    }

    /// <summary>Unindents and writes a closing brace.</summary>
    public void CloseBlock()
    {
        Indentation--;
        WriteLine("}");
    }

    /// <summary>The text written; every block must be closed by now.</summary>
    public override string ToString()
    {
        Debug.Assert(_indentation == 0, "The generated source ends inside a block.");
        return _text.ToString();
    }
}
