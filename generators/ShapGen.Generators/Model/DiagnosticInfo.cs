using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace ShapGen.Generators.Model;

/// <summary>A diagnostic as a plain value (descriptor id, location parts, message arguments) so it can be cached.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params object?[] arguments) =>
        new(descriptor.Id, LocationInfo.From(location),
            System.Linq.Enumerable.Select(arguments, a => System.Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToEquatableArray());
}

/// <summary>A source location as a plain value.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location) =>
        location is null || location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
}

/// <summary>What the parser produces for one annotated class: the model (null when it has errors) and diagnostics.</summary>
internal sealed record ParseResult(ModelSpec? Model, EquatableArray<DiagnosticInfo> Diagnostics);
