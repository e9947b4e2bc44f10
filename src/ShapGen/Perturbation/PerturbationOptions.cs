using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// What the perturbation methods share (Captum's <c>baselines</c>): the value a removed element takes, a scalar
/// <see cref="Baseline"/> or one tensor per input in <see cref="Baselines"/>.
/// </summary>
public class PerturbationOptions : ExplainOptions
{
    private double _baseline;

    /// <summary>Creates options with the defaults (baseline 0, as Captum).</summary>
    public PerturbationOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public PerturbationOptions(PerturbationOptions other) : base(other)
    {
        // Every option must be copied here (see ExplainOptions' copy constructor).
        _baseline = other._baseline;
        Baselines = other.Baselines;
    }

    /// <summary>The value every removed element takes when <see cref="Baselines"/> is null (Captum's scalar baseline); finite.</summary>
    public double Baseline
    {
        get => _baseline;
        set => _baseline = OptionValue.Checked(value, double.IsFinite(value), nameof(Baseline), "Baseline must be finite.");
    }

    /// <summary>
    /// One tensor per model input: the values removed elements take, shaped like one sample (shared by all samples),
    /// like the whole batch [N, …], or a 0-d scalar; on the inputs' device. Not owned: the caller disposes them.
    /// Null uses <see cref="Baseline"/>.
    /// </summary>
    public IReadOnlyList<Tensor>? Baselines { get; set; }
}

/// <summary>Options of <see cref="FeatureAblation"/> (Captum's <c>FeatureAblation.attribute</c>).</summary>
public sealed class FeatureAblationOptions : PerturbationOptions
{
    /// <summary>Creates options with the defaults: every element is its own feature.</summary>
    public FeatureAblationOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public FeatureAblationOptions(FeatureAblationOptions other) : base(other)
    {
        FeatureGroups = other.FeatureGroups;
        SampleFeatureGroups = other.SampleFeatureGroups;
    }

    /// <summary>
    /// Captum's <c>feature_mask</c>: which elements are removed together (one id may span inputs). Null: every element
    /// is its own feature.
    /// </summary>
    public KernelFeatureGroups? FeatureGroups { get; set; }

    /// <summary>
    /// Captum's <c>feature_mask</c> with a batch dimension: one grouping per explained sample (instead of
    /// <see cref="FeatureGroups"/>). Every sample runs as many perturbations as the largest grouping has features.
    /// </summary>
    public IReadOnlyList<KernelFeatureGroups>? SampleFeatureGroups { get; set; }
}

/// <summary>Options of <see cref="Occlusion"/> (Captum's <c>Occlusion.attribute</c>).</summary>
public sealed class OcclusionOptions : PerturbationOptions
{
    /// <summary>Creates options; <see cref="SlidingWindowShapes"/> must be set before use.</summary>
    public OcclusionOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public OcclusionOptions(OcclusionOptions other) : base(other)
    {
        SlidingWindowShapes = other.SlidingWindowShapes;
        Strides = other.Strides;
    }

    /// <summary>
    /// Captum's <c>sliding_window_shapes</c>: for each input, the window's shape over one sample's dimensions (no batch
    /// dimension). Required.
    /// </summary>
    public IReadOnlyList<long[]>? SlidingWindowShapes { get; set; }

    /// <summary>
    /// Captum's <c>strides</c>: for each input, the step of the window along each dimension; null steps by 1. Where
    /// a window is smaller than its dimension, the stride may not exceed it (so every element is covered).
    /// </summary>
    public IReadOnlyList<long[]>? Strides { get; set; }
}

/// <summary>Options of <see cref="ShapleyValueSampling"/> (Captum's <c>ShapleyValueSampling.attribute</c>).</summary>
public sealed class ShapleyValueSamplingOptions : PerturbationOptions
{
    private int _nSamples = 25;

    /// <summary>Creates options with Captum's defaults (25 permutations, every element its own feature).</summary>
    public ShapleyValueSamplingOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public ShapleyValueSamplingOptions(ShapleyValueSamplingOptions other) : base(other)
    {
        _nSamples = other._nSamples;
        Antithetic = other.Antithetic;
        FeatureGroups = other.FeatureGroups;
        SampleFeatureGroups = other.SampleFeatureGroups;
    }

    /// <summary>Captum's <c>n_samples</c>: random feature permutations per explained sample; at least 1 (default 25).</summary>
    public int NSamples
    {
        get => _nSamples;
        set => _nSamples = OptionValue.Checked(value, value >= 1, nameof(NSamples), "NSamples must be at least 1.");
    }

    /// <summary>
    /// Draw permutations in pairs, the second the reverse of the first (antithetic sampling: it lowers the variance for
    /// most models at no extra cost). Off by default, as Captum has no such option.
    /// </summary>
    public bool Antithetic { get; set; }

    /// <summary>Captum's <c>feature_mask</c>: which elements join a coalition together. Null: every element alone.</summary>
    public KernelFeatureGroups? FeatureGroups { get; set; }

    /// <summary>
    /// Captum's <c>feature_mask</c> with a batch dimension: one grouping per explained sample (instead of
    /// <see cref="FeatureGroups"/>). Every sample runs as many perturbations as the largest grouping has features.
    /// </summary>
    public IReadOnlyList<KernelFeatureGroups>? SampleFeatureGroups { get; set; }
}

/// <summary>Options of <see cref="Rise"/> (DIANNA's <c>RISEImage</c>: <c>n_masks</c>, <c>feature_res</c>, <c>p_keep</c>).</summary>
public sealed class RiseOptions : PerturbationOptions
{
    private int _nMasks = 1000;
    private int _featureRes = 8;
    private double? _pKeep;
    private ImageLayout _layout = ImageLayout.ChannelsFirst;

    /// <summary>Creates options with DIANNA's defaults (1000 masks, an 8×8 grid, p_keep estimated; channels first).</summary>
    public RiseOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public RiseOptions(RiseOptions other) : base(other)
    {
        _nMasks = other._nMasks;
        _featureRes = other._featureRes;
        _pKeep = other._pKeep;
        _layout = other._layout;
    }

    /// <summary>DIANNA's <c>n_masks</c>: random masks per explained image; at least 1 (default 1000).</summary>
    public int NMasks
    {
        get => _nMasks;
        set => _nMasks = OptionValue.Checked(value, value >= 1, nameof(NMasks), "NMasks must be at least 1.");
    }

    /// <summary>DIANNA's <c>feature_res</c>: cells per side of each mask's random grid; at least 1 (default 8).</summary>
    public int FeatureRes
    {
        get => _featureRes;
        set => _featureRes = OptionValue.Checked(value, value >= 1, nameof(FeatureRes), "FeatureRes must be at least 1.");
    }

    /// <summary>
    /// DIANNA's <c>p_keep</c>: the probability that a grid cell is kept, in (0, 1]. Null (the default) estimates it per
    /// image as DIANNA does: for 0.1, 0.2, …, 0.9, 100 masks each, the candidate whose masked outputs vary most (the
    /// largest standard deviation over masks of any output).
    /// </summary>
    public double? PKeep
    {
        get => _pKeep;
        set => _pKeep = OptionValue.Checked(value, value is null || (value > 0 && value <= 1), nameof(PKeep), "PKeep must be in (0, 1] or null.");
    }

    /// <summary>Where the channels are in a 3-d sample: [C, H, W] (the default, as TorchSharp) or [H, W, C]. Ignored for [H, W] samples.</summary>
    public ImageLayout Layout
    {
        get => _layout;
        set => _layout = OptionValue.Defined(value, nameof(Layout));
    }
}

/// <summary>Options of <see cref="Lime"/> (the lime package's <c>LimeImageExplainer.explain_instance</c>).</summary>
public sealed class LimeOptions : PerturbationOptions
{
    private int _numSamples = 1000;
    private double _kernelWidth = 0.25;
    private int? _numFeatures;
    private double _alpha = 1.0;

    /// <summary>Creates options with lime's defaults (1000 samples, kernel width 0.25, all features, Ridge alpha 1).</summary>
    public LimeOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public LimeOptions(LimeOptions other) : base(other)
    {
        _numSamples = other._numSamples;
        _kernelWidth = other._kernelWidth;
        _numFeatures = other._numFeatures;
        _alpha = other._alpha;
        FeatureGroups = other.FeatureGroups;
    }

    /// <summary>lime's <c>num_samples</c>: rows of the neighbourhood per sample, the explained sample included; at least 2 (default 1000).</summary>
    public int NumSamples
    {
        get => _numSamples;
        set => _numSamples = OptionValue.Checked(value, value >= 2, nameof(NumSamples), "NumSamples must be at least 2.");
    }

    /// <summary>lime_image's <c>kernel_width</c>: the width of √exp(−d²/width²) on the cosine distance; positive and finite (default 0.25).</summary>
    public double KernelWidth
    {
        get => _kernelWidth;
        set => _kernelWidth = OptionValue.Checked(value, value > 0 && double.IsFinite(value), nameof(KernelWidth), "KernelWidth must be positive and finite.");
    }

    /// <summary>
    /// lime's <c>num_features</c>: features the local model keeps, chosen as lime's "auto" does (forward selection up to
    /// 6, else the largest coefficients of a ridge fit); at least 1; null keeps all (lime's default 100000).
    /// </summary>
    public int? NumFeatures
    {
        get => _numFeatures;
        set => _numFeatures = OptionValue.Checked(value, value is null || value >= 1, nameof(NumFeatures), "NumFeatures must be at least 1 or null.");
    }

    /// <summary>The ridge penalty of the local model (lime's default regressor <c>Ridge(alpha=1)</c>); ≥ 0 and finite.</summary>
    public double Alpha
    {
        get => _alpha;
        set => _alpha = OptionValue.Checked(value, value >= 0 && double.IsFinite(value), nameof(Alpha), "Alpha must be non-negative and finite.");
    }

    /// <summary>The interpretable features (superpixels: <see cref="KernelFeatureGroups.FromSegmentation"/>). Null: every element alone.</summary>
    public KernelFeatureGroups? FeatureGroups { get; set; }
}

/// <summary>Options of <see cref="Partition"/> (shap's <c>PartitionExplainer</c> and its maskers).</summary>
public sealed class PartitionOptions : PerturbationOptions
{
    private int _maxEvals = 500;
    private int _batchSize = 10;
    private (int Kx, int Ky)? _blur;
    private ImageLayout _layout = ImageLayout.ChannelsFirst;

    /// <summary>Creates options with shap's defaults (max_evals 500, the image partition, baseline 0).</summary>
    public PartitionOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public PartitionOptions(PartitionOptions other) : base(other)
    {
        _maxEvals = other._maxEvals;
        _batchSize = other._batchSize;
        _blur = other._blur;
        _layout = other._layout;
        Hierarchy = other.Hierarchy;
        FeatureGroups = other.FeatureGroups;
    }

    /// <summary>
    /// shap's <c>max_evals</c>: model rows per explained sample beyond f(x) and f(baseline); at least 2 (default 500).
    /// Enough to expand every node in every context (2 rows each for a binary tree) gives exact Owen values.
    /// </summary>
    public int MaxEvals
    {
        get => _maxEvals;
        set => _maxEvals = OptionValue.Checked(value, value >= 2, nameof(MaxEvals), "MaxEvals must be at least 2.");
    }

    /// <summary>
    /// shap's <c>batch_size</c>: rows per sample taken from the exploration queue before the model runs them (the
    /// order of exploration, and so the result when MaxEvals cuts it short, depends on it); at least 1 (default 10).
    /// The rows of all samples of a round run together, in batches sized by the memory budget.
    /// </summary>
    public int BatchSize
    {
        get => _batchSize;
        set => _batchSize = OptionValue.Checked(value, value >= 1, nameof(BatchSize), "BatchSize must be at least 1.");
    }

    /// <summary>
    /// shap's clustering: the hierarchy over the features of <see cref="FeatureGroups"/> (over the elements when they
    /// are null). Null: shap's image partition of a one-input model's sample grid.
    /// </summary>
    public PartitionTree? Hierarchy { get; set; }

    /// <summary>The features the <see cref="Hierarchy"/>'s leaves stand for (one id may span inputs). Null: every element alone.</summary>
    public KernelFeatureGroups? FeatureGroups { get; set; }

    /// <summary>
    /// shap's <c>"blur(kx,ky)"</c> image masker: removed elements take the input blurred with a kx-wide, ky-tall box
    /// (OpenCV's <c>blur</c>); both at least 1. Null: they take the baseline (shap's constant masker).
    /// </summary>
    public (int Kx, int Ky)? Blur
    {
        get => _blur;
        set => _blur = OptionValue.Checked(value, value is null || (value.Value.Kx >= 1 && value.Value.Ky >= 1), nameof(Blur), "Blur's kx and ky must be at least 1.");
    }

    /// <summary>Where the channels are in a 3-d sample, for the image partition and the blur: [C, H, W] (the default) or [H, W, C].</summary>
    public ImageLayout Layout
    {
        get => _layout;
        set => _layout = OptionValue.Defined(value, nameof(Layout));
    }
}
