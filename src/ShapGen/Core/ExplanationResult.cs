using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// The base of each model's generated result types: an <see cref="Explanation"/> that it owns (dispose it), with
/// the access that does not depend on the model's names. Outputs are read by model output index, or, when the
/// explanation was made with ranked outputs, by rank; the two never stand in for each other.
/// </summary>
public abstract class ExplanationResult : IDisposable
{
    /// <summary>Wraps an engine explanation and takes ownership of it.</summary>
    /// <param name="explanation">The engine's explanation.</param>
    protected ExplanationResult(Explanation explanation) =>
        Explanation = explanation ?? throw new ArgumentNullException(nameof(explanation));

    /// <summary>The untyped explanation.</summary>
    public Explanation Explanation { get; }

    /// <summary>The model's output labels in output order (for plot titles and messages), or null when it has none.</summary>
    public IReadOnlyList<string>? Labels => Explanation.Labels;

    /// <summary>E[f(background)] for every model output, [K].</summary>
    public Tensor ExpectedValues => Explanation.ExpectedValues;

    /// <summary>E[f(background)] of model output <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The model has no such output.</exception>
    public double ExpectedValue(int output) => Explanation.ExpectedValue(output);

    /// <summary>True when variances of the estimates were computed.</summary>
    public bool HasVariances => Explanation.HasVariances;

    /// <summary>True when the explanation was made with ranked outputs: read it by rank, not by output.</summary>
    public bool IsRanked => Explanation.IsRanked;

    /// <summary>With ranked outputs: [N][k] model output indexes explained at each rank; otherwise null.</summary>
    public long[][]? RankedIndexes => Explanation.RankedIndexes();

    /// <summary>Frees the tensors of the explanation.</summary>
    public void Dispose() => Explanation.Dispose();

    /// <summary>Model output <paramref name="output"/>'s position in the explanation.</summary>
    /// <exception cref="InvalidOperationException">The explanation is ranked.</exception>
    protected int OutputPosition(int output) =>
        Explanation.IsRanked
            ? throw new InvalidOperationException(
                "This explanation was made with RankedOutputs: access it by rank with Rank(i) and read RankedLabels/RankedIndexes.")
            : output;

    /// <summary>Rank <paramref name="rank"/>'s position in the explanation.</summary>
    /// <exception cref="InvalidOperationException">The explanation is not ranked.</exception>
    protected int RankPosition(int rank) =>
        Explanation.IsRanked
            ? rank
            : throw new InvalidOperationException(
                "This explanation was made without RankedOutputs: it has no ranks; access it by label or output index.");
}

/// <summary>The base of a model's generated <c>Result</c>: adds access by the model's input enum.</summary>
/// <typeparam name="TInput">The model's generated <c>Input</c> enum (values 0, 1, … in <c>forward</c>'s order).</typeparam>
public abstract class ExplanationResult<TInput> : ExplanationResult where TInput : struct, Enum
{
    /// <summary>Wraps an engine explanation and takes ownership of it.</summary>
    /// <param name="explanation">The engine's explanation.</param>
    protected ExplanationResult(Explanation explanation) : base(explanation)
    {
    }

    /// <summary>All explained outputs' attributions for one input, in output (or rank) order. Owned by the result.</summary>
    public IReadOnlyList<Tensor> ForInput(TInput input) => Explanation.ForInput(Index(input));

    /// <summary>All explained outputs' variances for one input, in output (or rank) order (requires ReturnVariances).</summary>
    public IReadOnlyList<Tensor> VariancesForInput(TInput input) => Explanation.VariancesForInput(Index(input));

    /// <summary>shap ≥ 0.45's layout for one input: a new tensor [N, …shape, K] (the caller owns it).</summary>
    public Tensor ToShapLayout(TInput input) => Explanation.ToShapLayout(Index(input));

    /// <summary>The attributions of model output <paramref name="output"/>, per input.</summary>
    /// <exception cref="InvalidOperationException">The explanation is ranked.</exception>
    protected OutputAttributions Output(int output) => new(Explanation, OutputPosition(output), variances: false);

    /// <summary>The variances of the estimates for model output <paramref name="output"/>, per input.</summary>
    /// <exception cref="InvalidOperationException">The explanation is ranked.</exception>
    protected OutputAttributions OutputVariances(int output) => new(Explanation, OutputPosition(output), variances: true);

    /// <summary>The attributions at rank <paramref name="rank"/>, per input.</summary>
    /// <exception cref="InvalidOperationException">The explanation is not ranked.</exception>
    protected OutputAttributions AtRank(int rank) => new(Explanation, RankPosition(rank), variances: false);

    private static int Index(TInput input) => Convert.ToInt32(input, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// One explained output's attributions (or the variances of their estimates), one tensor per input, each shaped like
/// that input's batch. The tensors are owned by the explanation. Each model's generated <c>Attributions</c> names them.
/// </summary>
public readonly struct OutputAttributions
{
    private readonly Explanation _explanation;
    private readonly int _position;
    private readonly bool _variances;

    /// <summary>Selects one output (or rank) position of an explanation.</summary>
    /// <param name="explanation">The explanation.</param>
    /// <param name="position">The output (or rank) position in it.</param>
    /// <param name="variances">True for the variances of the estimates instead of the attributions.</param>
    public OutputAttributions(Explanation explanation, int position, bool variances)
    {
        _explanation = explanation ?? throw new ArgumentNullException(nameof(explanation));
        _position = position;
        _variances = variances;
    }

    /// <summary>The tensor for input <paramref name="input"/> (0-based, in <c>forward</c>'s order).</summary>
    public Tensor this[int input] => _variances ? _explanation.Variance(_position, input) : _explanation[_position, input];
}
