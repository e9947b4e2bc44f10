using System.Collections.Generic;

namespace ShapGen;

/// <summary>Shapes as they appear in messages.</summary>
public static class Shapes
{
    /// <summary>Formats a shape as <c>[3, 1, 28, 28]</c>.</summary>
    /// <param name="shape">The dimensions.</param>
    public static string Format(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
