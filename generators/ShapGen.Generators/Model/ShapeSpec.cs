using System.Collections;
using System.Collections.Generic;
using System.Linq;

namespace ShapGen.Generators.Model;

/// <summary>A per-sample tensor shape (no batch dimension): the one shape type of the model, for inputs, outputs and layers.</summary>
internal sealed record ShapeSpec(EquatableArray<long> Dimensions) : IReadOnlyList<long>
{
    public ShapeSpec(IEnumerable<long> dimensions) : this(dimensions.ToEquatableArray())
    {
    }

    public ShapeSpec(IEnumerable<int> dimensions) : this(dimensions.Select(d => (long)d).ToEquatableArray())
    {
    }

    public int Count => Dimensions.Count;

    public long this[int index] => Dimensions[index];

    public IEnumerator<long> GetEnumerator() => Dimensions.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
