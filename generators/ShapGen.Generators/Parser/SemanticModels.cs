using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace ShapGen.Generators.Parser;

/// <summary>One semantic model per tree for a parse, so each method body is bound once (a new model re-binds).</summary>
internal sealed class SemanticModels
{
    private readonly Compilation _compilation;
    private readonly Dictionary<SyntaxTree, SemanticModel> _models = new();

    public SemanticModels(SemanticModel first)
    {
        _compilation = first.Compilation;
        _models[first.SyntaxTree] = first;
    }

    public SemanticModel For(SyntaxTree tree)
    {
        if (!_models.TryGetValue(tree, out var model))
            _models[tree] = model = _compilation.GetSemanticModel(tree);
        return model;
    }
}
