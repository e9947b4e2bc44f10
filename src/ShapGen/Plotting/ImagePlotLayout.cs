using System;
using SkiaSharp;

namespace ShapGen;

/// <summary>
/// Where everything lies in an <see cref="ImagePlot"/> figure. Width = 2·Margin + C·PanelWidth + (C − 1)·Spacing for
/// C = outputs + 1 columns; Height = 2·Margin + R·(TitleHeight + PanelHeight) + (R − 1)·Spacing + Spacing + BarHeight
/// + 2·TextHeight for R rows, where TitleHeight is TextHeight when any title is drawn and 0 otherwise,
/// BarHeight = round(FontSize) and TextHeight = ceil(1.5·FontSize).
/// </summary>
public sealed class ImagePlotLayout
{
    /// <summary>
    /// The largest figure side, in pixels. A figure beyond it (or beyond <see cref="MaxPixels"/>) is refused with an
    /// <see cref="ArgumentOutOfRangeException"/> that gives its size: it would cost gigabytes and no longer read as one picture.
    /// </summary>
    public const int MaxSide = 32_767;

    /// <summary>The largest figure area, in pixels (100 megapixels, 400 MB of RGBA).</summary>
    public const long MaxPixels = 100_000_000;

    /// <summary>Computes the layout of a figure.</summary>
    /// <param name="rows">Explained samples.</param>
    /// <param name="outputs">Output columns (the image column comes on top of these).</param>
    /// <param name="imageHeight">Image height in image pixels (sets the panels' aspect ratio).</param>
    /// <param name="imageWidth">Image width in image pixels.</param>
    /// <param name="hasTitles">Whether a title strip is drawn above each row.</param>
    /// <param name="options">Sizes; defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size option is out of range, or the figure would exceed <see cref="MaxSide"/> or <see cref="MaxPixels"/>.</exception>
    public ImagePlotLayout(int rows, int outputs, int imageHeight, int imageWidth, bool hasTitles, ImagePlotOptions? options = null)
    {
        options ??= new ImagePlotOptions();
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "A figure needs at least one row.");
        if (outputs < 1) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "A figure needs at least one output column.");
        if (imageHeight < 1 || imageWidth < 1)
            throw new ArgumentException($"Images must be at least 1×1; they are {imageHeight}×{imageWidth}.", nameof(imageHeight));
        if (options.PanelWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.PanelWidth, "PanelWidth must be at least 1.");
        if (options.Spacing < 0 || options.Margin < 0)
            throw new ArgumentOutOfRangeException(nameof(options), "Spacing and Margin must not be negative.");
        if (!(options.FontSize > 0))
            throw new ArgumentOutOfRangeException(nameof(options), options.FontSize, "FontSize must be positive.");
        // Sizes in double first: huge options must give a clear refusal, not an int overflow or a failed allocation.
        double panelHeight = Math.Max(1, Math.Round((double)options.PanelWidth * imageHeight / imageWidth));
        double textHeight = Math.Ceiling(options.FontSize * 1.5);
        double titleHeight = hasTitles ? textHeight : 0;
        double barHeight = Math.Max(1, Math.Round(options.FontSize));
        double width = 2.0 * options.Margin + (outputs + 1.0) * options.PanelWidth + (double)outputs * options.Spacing;
        double height = 2.0 * options.Margin + rows * (titleHeight + panelHeight) + (double)rows * options.Spacing + barHeight + 2 * textHeight;
        if (width > MaxSide || height > MaxSide || width * height > MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(options),
                $"The figure would be {width:F0}×{height:F0} pixels ({rows} row(s) and {outputs + 1} column(s) of " +
                $"{options.PanelWidth}×{panelHeight:F0} panels, PanelWidth {options.PanelWidth}, Spacing {options.Spacing}, " +
                $"Margin {options.Margin}, FontSize {options.FontSize}); ImagePlot draws at most {MaxSide} pixels per side and " +
                $"{MaxPixels} pixels in all. Lower PanelWidth or plot fewer rows or outputs per figure.");
        Rows = rows;
        Columns = outputs + 1;
        Margin = options.Margin;
        Spacing = options.Spacing;
        PanelWidth = options.PanelWidth;
        PanelHeight = (int)panelHeight;
        TextHeight = (int)textHeight;
        TitleHeight = (int)titleHeight;
        BarHeight = (int)barHeight;
        Width = (int)width;
        Height = (int)height;
        int grid = Rows * (TitleHeight + PanelHeight) + (Rows - 1) * Spacing;
        int inner = Width - 2 * Margin;
        int barWidth = Math.Max(Math.Min(inner, PanelWidth), (int)Math.Round(inner * 0.6));
        int barLeft = Margin + (inner - barWidth) / 2;
        int barTop = Margin + grid + Spacing;
        ColorBar = new SKRectI(barLeft, barTop, barLeft + barWidth, barTop + BarHeight);
        ColorBarTicks = new SKRectI(0, ColorBar.Bottom, Width, ColorBar.Bottom + TextHeight);
        ColorBarTitle = new SKRectI(0, ColorBarTicks.Bottom, Width, ColorBarTicks.Bottom + TextHeight);
    }

    /// <summary>Figure width.</summary>
    public int Width { get; }

    /// <summary>Figure height.</summary>
    public int Height { get; }

    /// <summary>Rows (explained samples).</summary>
    public int Rows { get; }

    /// <summary>Columns, the image column included.</summary>
    public int Columns { get; }

    /// <summary>Blank border.</summary>
    public int Margin { get; }

    /// <summary>Gap between panels.</summary>
    public int Spacing { get; }

    /// <summary>Panel width.</summary>
    public int PanelWidth { get; }

    /// <summary>Panel height.</summary>
    public int PanelHeight { get; }

    /// <summary>Height of one line of text.</summary>
    public int TextHeight { get; }

    /// <summary>Height of the title strip above each row (0 without titles).</summary>
    public int TitleHeight { get; }

    /// <summary>Height of the colour bar.</summary>
    public int BarHeight { get; }

    /// <summary>The colour bar's gradient.</summary>
    public SKRectI ColorBar { get; }

    /// <summary>The strip under the colour bar with its tick labels.</summary>
    public SKRectI ColorBarTicks { get; }

    /// <summary>The strip with the colour bar's title.</summary>
    public SKRectI ColorBarTitle { get; }

    /// <summary>The panel of a row and column (column 0 is the image).</summary>
    public SKRectI Panel(int row, int column)
    {
        var title = Title(row, column);
        return new SKRectI(title.Left, title.Bottom, title.Right, title.Bottom + PanelHeight);
    }

    /// <summary>The title strip above a panel (empty when the figure has no titles).</summary>
    public SKRectI Title(int row, int column)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"The figure has rows 0..{Rows - 1}.");
        if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column), column, $"The figure has columns 0..{Columns - 1}.");
        int left = Margin + column * (PanelWidth + Spacing);
        int top = Margin + row * (TitleHeight + PanelHeight + Spacing);
        return new SKRectI(left, top, left + PanelWidth, top + TitleHeight);
    }
}
