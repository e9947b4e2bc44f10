using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ShapGen;

/// <summary>The link through which KernelSHAP explains outputs (shap's <c>link</c>).</summary>
public enum KernelLink
{
    /// <summary>Explain the raw model outputs.</summary>
    Identity,

    /// <summary>Explain log(p / (1 − p)) of outputs that are probabilities; expected values are averaged before the link.</summary>
    Logit,
}

/// <summary>Kinds of feature selection before the KernelSHAP regression (shap's <c>l1_reg</c>).</summary>
public enum KernelRegularizationKind
{
    /// <summary>No selection: every varying feature enters the regression (ShapGen's default).</summary>
    Off,

    /// <summary>shap's former "auto": AIC selection when fewer than 20 % of all coalitions were evaluated, otherwise none.</summary>
    Auto,

    /// <summary>Keep the first k features entering a least-angle regression path (shap's <c>"num_features(k)"</c>).</summary>
    NumFeatures,

    /// <summary>Lasso path, selection by the Akaike information criterion (shap's <c>"aic"</c>).</summary>
    Aic,

    /// <summary>Lasso path, selection by the Bayesian information criterion (shap's <c>"bic"</c>).</summary>
    Bic,
}

/// <summary>
/// Feature selection for KernelSHAP (shap's <c>l1_reg</c>). ShapGen defaults to <see cref="Off"/>: shap ≥ 0.47
/// defaults to <c>num_features(10)</c>, which silently gives at most 10 non-zero values; ask for that explicitly
/// with <see cref="NumFeatures"/> when it is wanted.
/// </summary>
public readonly record struct KernelRegularization
{
    private KernelRegularization(KernelRegularizationKind kind, int count)
    {
        Kind = kind;
        Count = count;
    }

    /// <summary>Which selection is applied.</summary>
    public KernelRegularizationKind Kind { get; }

    /// <summary>For <see cref="KernelRegularizationKind.NumFeatures"/>: how many features are kept.</summary>
    public int Count { get; }

    /// <summary>No feature selection (the default).</summary>
    public static KernelRegularization Off => new(KernelRegularizationKind.Off, 0);

    /// <summary>shap &lt; 0.47's "auto": AIC when fewer than 20 % of the coalition space was evaluated.</summary>
    public static KernelRegularization Auto => new(KernelRegularizationKind.Auto, 0);

    /// <summary>Lasso with the Akaike information criterion.</summary>
    public static KernelRegularization Aic => new(KernelRegularizationKind.Aic, 0);

    /// <summary>Lasso with the Bayesian information criterion.</summary>
    public static KernelRegularization Bic => new(KernelRegularizationKind.Bic, 0);

    /// <summary>Keep the first <paramref name="k"/> features of a least-angle regression path.</summary>
    /// <param name="k">Number of features to keep, ≥ 1.</param>
    public static KernelRegularization NumFeatures(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        return new(KernelRegularizationKind.NumFeatures, k);
    }

    /// <summary>Parses shap's spellings: "auto", "aic", "bic", "num_features(k)", "off"/"false"/"0".</summary>
    /// <param name="text">The text to parse.</param>
    public static KernelRegularization Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        if (t is "off" or "false" or "0" or "none") return Off;
        if (t == "auto") return Auto;
        if (t == "aic") return Aic;
        if (t == "bic") return Bic;
        if (t.StartsWith("num_features(", StringComparison.Ordinal) && t.EndsWith(')') &&
            int.TryParse(t["num_features(".Length..^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int k) && k >= 1)
            return NumFeatures(k);
        throw new FormatException($"'{text}' is not an l1_reg setting; expected auto, aic, bic, num_features(k) with k ≥ 1, or off.");
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        KernelRegularizationKind.NumFeatures => $"num_features({Count})",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// Groups of input elements that KernelSHAP masks together: for each model input, the feature id of each element
/// of one sample (flattened row-major). Feature ids run 0..M−1 and may span several inputs; every element belongs
/// to exactly one feature, so that masking all features gives the background and the values add up to
/// f(x) − E f(background).
/// </summary>
public sealed class KernelFeatureGroups
{
    private readonly int[][] _elementFeatures;

    /// <summary>Creates groups from per-input element→feature maps.</summary>
    /// <param name="featureCount">Number of features M.</param>
    /// <param name="elementFeatures">For each input, one id per element of a sample (row-major), in 0..M−1.</param>
    public KernelFeatureGroups(int featureCount, params int[][] elementFeatures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(featureCount, 1);
        ArgumentNullException.ThrowIfNull(elementFeatures);
        if (elementFeatures.Length == 0)
            throw new ArgumentException("elementFeatures needs one map per model input.", nameof(elementFeatures));
        for (int i = 0; i < elementFeatures.Length; i++)
        {
            var map = elementFeatures[i] ?? throw new ArgumentNullException(nameof(elementFeatures), $"The map of input {i} is null.");
            for (int e = 0; e < map.Length; e++)
                if (map[e] < 0 || map[e] >= featureCount)
                    throw new ArgumentOutOfRangeException(nameof(elementFeatures), map[e],
                        $"Input {i}, element {e}: feature id must be in 0..{featureCount - 1}.");
        }
        FeatureCount = featureCount;
        _elementFeatures = elementFeatures.Select(m => (int[])m.Clone()).ToArray();
    }

    /// <summary>Number of features M.</summary>
    public int FeatureCount { get; }

    /// <summary>Number of inputs covered.</summary>
    public int InputCount => _elementFeatures.Length;

    /// <summary>The element→feature map of input <paramref name="input"/> (a copy).</summary>
    public int[] ElementFeatures(int input) => (int[])_elementFeatures[input].Clone();

    internal int[] Map(int input) => _elementFeatures[input];

    /// <summary>Number of elements (over all inputs) in each feature.</summary>
    public int[] GroupSizes()
    {
        var sizes = new int[FeatureCount];
        foreach (var map in _elementFeatures)
            foreach (int f in map)
                if (f >= 0) sizes[f]++;
        return sizes;
    }

    /// <summary>Every element of every input is its own feature, numbered input by input (shap's default).</summary>
    /// <param name="sampleShapes">Per-sample shape of each input.</param>
    public static KernelFeatureGroups PerElement(IReadOnlyList<long[]> sampleShapes)
    {
        ArgumentNullException.ThrowIfNull(sampleShapes);
        int next = 0;
        var maps = new int[sampleShapes.Count][];
        for (int i = 0; i < maps.Length; i++)
        {
            long n = sampleShapes[i].Aggregate(1L, (a, b) => a * b);
            maps[i] = new int[n];
            for (int e = 0; e < n; e++) maps[i][e] = next++;
        }
        return new KernelFeatureGroups(Math.Max(next, 1), maps);
    }

    /// <summary>
    /// Superpixels of a one-input image model: every channel of pixel (y, x) belongs to feature
    /// <c>segmentation[y, x]</c>, so segment k is feature k.
    /// </summary>
    /// <param name="segmentation">The segmentation (H×W).</param>
    /// <param name="layout">The model input's per-sample layout.</param>
    /// <param name="channels">Number of channels C of the model input.</param>
    public static KernelFeatureGroups FromSegmentation(Segmentation segmentation, ImageLayout layout, int channels)
    {
        ArgumentNullException.ThrowIfNull(segmentation);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        int h = segmentation.Height, w = segmentation.Width;
        var labels = segmentation.Labels;
        var map = new int[h * w * channels];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < channels; c++)
                {
                    int index = layout == ImageLayout.ChannelsFirst ? (c * h + y) * w + x : (y * w + x) * channels + c;
                    map[index] = labels[y * w + x];
                }
        return new KernelFeatureGroups(segmentation.Count, map);
    }
}

/// <summary>Where the channel axis of a model's image input lies.</summary>
public enum ImageLayout
{
    /// <summary>[N, C, H, W] (PyTorch, ONNX exported from PyTorch).</summary>
    ChannelsFirst,

    /// <summary>[N, H, W, C] (TensorFlow/Keras).</summary>
    ChannelsLast,
}

/// <summary>Options of <see cref="KernelExplainer.Explain"/> (shap's <c>shap_values</c> keywords).</summary>
/// <remarks>
/// <see cref="ExplainOptions.RankedOutputs"/> applies to <see cref="KernelExplainer.Explain"/> (ranked by the
/// outputs in the link's space); <see cref="KernelExplainer.ExplainFeatures"/> always returns every output.
/// </remarks>
public sealed class KernelExplainOptions : ExplainOptions
{
    private int? _nsamples;
    private KernelLink _link = KernelLink.Identity;

    /// <summary>Creates options with the defaults.</summary>
    public KernelExplainOptions()
    {
    }

    /// <summary>Copies every option of <paramref name="other"/> (see <see cref="ExplainOptions(ExplainOptions)"/>).</summary>
    /// <param name="other">The options to copy.</param>
    public KernelExplainOptions(KernelExplainOptions other) : base(other)
    {
        _nsamples = other._nsamples;
        L1Reg = other.L1Reg;
        _link = other._link;
        FeatureGroups = other.FeatureGroups;
    }

    /// <summary>
    /// Coalitions evaluated per explained sample (at least 1); null = shap's "auto", 2·M + 2048. Capped at 2^M − 2,
    /// where every coalition is enumerated and the result is exact. A count whose coalition tables would not fit the
    /// memory budget is refused with an <see cref="ArgumentOutOfRangeException"/> before any work.
    /// </summary>
    public int? NSamples
    {
        get => _nsamples;
        set => _nsamples = OptionValue.Checked(value, value is not < 1, nameof(NSamples),
            "NSamples must be at least 1 (or null for auto).");
    }

    /// <summary>Feature selection before the regression; default <see cref="KernelRegularization.Off"/> (see the type's remarks).</summary>
    public KernelRegularization L1Reg { get; set; } = KernelRegularization.Off;

    /// <summary>The link function (shap's <c>link</c>): identity or logit.</summary>
    public KernelLink Link
    {
        get => _link;
        set => _link = OptionValue.Defined(value, nameof(Link));
    }

    /// <summary>Which input elements are masked together; null makes every element its own feature.</summary>
    public KernelFeatureGroups? FeatureGroups { get; set; }
}
