using System.Collections.Generic;

namespace ShapGen;

/// <summary>Where the channel axis of an image or attribution tensor is.</summary>
public enum ChannelLayout
{
    /// <summary>
    /// Detect per tensor: rank 4 is channels-first when dimension 1 is 1 or 3 and dimension 3 is not, channels-last in
    /// the opposite case, channels-first (TorchSharp's convention) when neither is 1 or 3; a tensor where both are
    /// 1 or 3 is ambiguous and needs an explicit layout. Rank 3 [N, H, W] is one channel; rank 2 [N, s·s] is a
    /// square one-channel image.
    /// </summary>
    Auto,

    /// <summary>[N, C, H, W], as TorchSharp and PyTorch models take images.</summary>
    ChannelsFirst,

    /// <summary>[N, H, W, C], as shap and Keras hold images.</summary>
    ChannelsLast,
}

/// <summary>Options of <see cref="ImagePlot"/>. Every size is in pixels of the PNG.</summary>
public sealed record ImagePlotOptions
{
    /// <summary>Titles of the output columns, one per output, drawn above every row's panels (shap's <c>labels</c>).</summary>
    public IReadOnlyList<string>? ColumnLabels { get; init; }

    /// <summary>
    /// Titles per row and output column, [row][column] (shap's 2-D <c>labels</c>; used for ranked outputs, where each
    /// sample explains different outputs). Takes precedence over <see cref="ColumnLabels"/>.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>>? PanelLabels { get; init; }

    /// <summary>Titles of the rows, drawn above each row's image (shap's <c>true_labels</c>).</summary>
    public IReadOnlyList<string>? RowLabels { get; init; }

    /// <summary>Where the channel axis of the images and attributions is; <see cref="ChannelLayout.Auto"/> by default.</summary>
    public ChannelLayout Layout { get; init; } = ChannelLayout.Auto;

    /// <summary>Width of every panel; its height follows the image's aspect ratio. Default 160.</summary>
    public int PanelWidth { get; init; } = 160;

    /// <summary>Gap between panels, and between the grid and the colour bar. Default 12.</summary>
    public int Spacing { get; init; } = 12;

    /// <summary>Blank border around the figure. Default 16.</summary>
    public int Margin { get; init; } = 16;

    /// <summary>Text size of titles and colour-bar labels. Default 14.</summary>
    public float FontSize { get; init; } = 14f;

    /// <summary>
    /// The end of the colour scale (the scale runs from −MaxValue to +MaxValue, or 0 to MaxValue for variances);
    /// null to take the <see cref="Percentile"/> of |values| over the whole figure, as shap does.
    /// </summary>
    public double? MaxValue { get; init; }

    /// <summary>The percentile of |values| that ends the colour scale when <see cref="MaxValue"/> is null. Default 99.9.</summary>
    public double Percentile { get; init; } = 99.9;

    /// <summary>Opacity of the faint gray copy of the image under each attribution map. Default 0.15, as shap.</summary>
    public double ImageAlpha { get; init; } = 0.15;

    /// <summary>Title of the colour bar; null for "SHAP value" (attributions) or "Variance" (variances).</summary>
    public string? ColorBarLabel { get; init; }

    /// <summary>
    /// The pixel values shown as black and white; null to scale each image from its own minimum to maximum (as
    /// matplotlib's <c>imshow</c> does), except RGB images already in [0, 1] or [0, 255], which are shown as they are.
    /// </summary>
    public (double Min, double Max)? ImageRange { get; init; }
}
