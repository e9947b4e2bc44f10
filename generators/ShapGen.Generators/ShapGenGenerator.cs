using Microsoft.CodeAnalysis;

namespace ShapGen.Generators;

/// <summary>Emits typed explainers for classes annotated with <c>[ShapGen.Explainable]</c>.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class ShapGenGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
    }
}
