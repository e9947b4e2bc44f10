using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using SkiaSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Draws what shap's <c>image_plot</c> draws: one row per explained sample, the image in the first column, then one
/// panel per output with the attribution as a red (positive) / blue (negative) map, transparent at zero, over a faint
/// gray copy of the image; one colour scale for the whole figure, symmetric about zero at the 99.9th percentile of
/// |attribution|; a horizontal colour bar titled "SHAP value". Multichannel attributions are summed over channels.
/// Text uses an embedded DejaVu Sans font, so no installed fonts are needed.
/// </summary>
public static class ImagePlot
{
    /// <summary>shap's positive colour (red_transparent_blue's red end), RGB 0–255.</summary>
    public static readonly (byte R, byte G, byte B) PositiveColor = (255, 0, 81);

    /// <summary>shap's negative colour (red_transparent_blue's blue end), RGB 0–255.</summary>
    public static readonly (byte R, byte G, byte B) NegativeColor = (0, 138, 251);

    private static readonly Lazy<SKTypeface> Font = new(LoadFont);

    /// <summary>Renders the attribution figure and writes it as a PNG file.</summary>
    /// <param name="path">The PNG file to create or overwrite.</param>
    /// <param name="attributionsPerOutput">One tensor per output column, each [N, …] like the explained input (float32/float64, any device).</param>
    /// <param name="images">The explained images [N, C, H, W], [N, H, W, C], [N, H, W] or [N, s·s].</param>
    /// <param name="options">Titles, sizes, layout; defaults when null.</param>
    public static void Save(string path, IReadOnlyList<Tensor> attributionsPerOutput, Tensor images, ImagePlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllBytes(path, RenderPng(attributionsPerOutput, images, options));
    }

    /// <summary>Renders one input of an explanation (titles from its labels, per sample for ranked outputs) to a PNG file.</summary>
    /// <param name="path">The PNG file to create or overwrite.</param>
    /// <param name="explanation">The explanation.</param>
    /// <param name="input">Which model input to draw.</param>
    /// <param name="images">The explained images for that input (often the input itself).</param>
    /// <param name="options">Options; column or panel labels given here replace the explanation's.</param>
    public static void Save(string path, Explanation explanation, int input, Tensor images, ImagePlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllBytes(path, RenderPng(explanation, input, images, options));
    }

    /// <summary>Renders the attribution figure as PNG bytes.</summary>
    public static byte[] RenderPng(IReadOnlyList<Tensor> attributionsPerOutput, Tensor images, ImagePlotOptions? options = null)
    {
        using var bitmap = Render(attributionsPerOutput, images, options);
        return Encode(bitmap);
    }

    /// <summary>Renders one input of an explanation as PNG bytes.</summary>
    public static byte[] RenderPng(Explanation explanation, int input, Tensor images, ImagePlotOptions? options = null)
    {
        using var bitmap = Render(explanation, input, images, options);
        return Encode(bitmap);
    }

    /// <summary>Renders the attribution figure into a new bitmap; the caller disposes it.</summary>
    public static SKBitmap Render(IReadOnlyList<Tensor> attributionsPerOutput, Tensor images, ImagePlotOptions? options = null) =>
        RenderCore(attributionsPerOutput, images, options ?? new ImagePlotOptions(), variances: false, nameof(attributionsPerOutput));

    /// <summary>Renders one input of an explanation into a new bitmap; the caller disposes it.</summary>
    public static SKBitmap Render(Explanation explanation, int input, Tensor images, ImagePlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        var values = explanation.ForInput(input);
        return RenderCore(values, images, WithExplanationLabels(explanation, options), variances: false, "explanation");
    }

    /// <summary>
    /// Renders the variance picture (the variance of each attribution estimate, e.g. from <c>ReturnVariances</c>)
    /// with a sequential colour map from 0 to the 99.9th percentile of the variances, and writes it as a PNG file.
    /// </summary>
    /// <param name="path">The PNG file to create or overwrite.</param>
    /// <param name="variancesPerOutput">One tensor per output column, shaped like the attributions.</param>
    /// <param name="images">The explained images.</param>
    /// <param name="options">Options; the colour bar is titled "Variance" unless <see cref="ImagePlotOptions.ColorBarLabel"/> says otherwise.</param>
    public static void SaveVariances(string path, IReadOnlyList<Tensor> variancesPerOutput, Tensor images, ImagePlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var bitmap = RenderVariances(variancesPerOutput, images, options);
        File.WriteAllBytes(path, Encode(bitmap));
    }

    /// <summary>Renders the variances of one input of an explanation and writes them as a PNG file.</summary>
    /// <exception cref="InvalidOperationException">The explanation has no variances.</exception>
    public static void SaveVariances(string path, Explanation explanation, int input, Tensor images, ImagePlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var bitmap = RenderVariances(explanation, input, images, options);
        File.WriteAllBytes(path, Encode(bitmap));
    }

    /// <summary>Renders the variance picture into a new bitmap; the caller disposes it.</summary>
    public static SKBitmap RenderVariances(IReadOnlyList<Tensor> variancesPerOutput, Tensor images, ImagePlotOptions? options = null) =>
        RenderCore(variancesPerOutput, images, options ?? new ImagePlotOptions(), variances: true, nameof(variancesPerOutput));

    /// <summary>Renders the variances of one input of an explanation into a new bitmap; the caller disposes it.</summary>
    /// <exception cref="InvalidOperationException">The explanation has no variances.</exception>
    public static SKBitmap RenderVariances(Explanation explanation, int input, Tensor images, ImagePlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        var values = explanation.VariancesForInput(input);
        return RenderCore(values, images, WithExplanationLabels(explanation, options), variances: true, "explanation");
    }

    /// <summary>Encodes a bitmap as PNG.</summary>
    public static byte[] Encode(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>
    /// The end of the colour scale: the <paramref name="percentile"/>-th percentile of |values| (NaN ignored), with
    /// numpy's default linear interpolation, as shap's <c>np.nanpercentile(abs_vals, 99.9)</c>.
    /// </summary>
    public static double ScaleOf(IEnumerable<double> values, double percentile = 99.9)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!(percentile >= 0 && percentile <= 100))
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "The percentile must be between 0 and 100.");
        var abs = values.Where(v => !double.IsNaN(v)).Select(Math.Abs).ToArray();
        if (abs.Length == 0) return 0;
        Array.Sort(abs);
        double rank = percentile / 100 * (abs.Length - 1);
        int lo = (int)Math.Floor(rank);
        int hi = Math.Min(lo + 1, abs.Length - 1);
        return abs[lo] + (rank - lo) * (abs[hi] - abs[lo]);
    }

    private static ImagePlotOptions WithExplanationLabels(Explanation explanation, ImagePlotOptions? options)
    {
        options ??= new ImagePlotOptions();
        if (options.ColumnLabels is not null || options.PanelLabels is not null) return options;
        if (explanation.OutputIndexes is { } indexes)
        {
            long[] flat;
            using (NewDisposeScope()) flat = indexes.detach().cpu().to_type(int64).contiguous().data<long>().ToArray();
            int k = (int)indexes.shape[1];
            var panels = Enumerable.Range(0, (int)indexes.shape[0])
                .Select(n => (IReadOnlyList<string>)Enumerable.Range(0, k).Select(r => explanation.LabelOf(flat[n * k + r])).ToArray())
                .ToArray();
            return options with { PanelLabels = panels };
        }
        return options with { ColumnLabels = Enumerable.Range(0, explanation.OutputCount).Select(o => explanation.LabelOf(o)).ToArray() };
    }

    private static SKBitmap RenderCore(IReadOnlyList<Tensor> maps, Tensor images, ImagePlotOptions options, bool variances, string argument)
    {
        if (maps is null) throw new ArgumentNullException(argument);
        if (maps.Count == 0) throw new ArgumentException($"'{argument}' must hold at least one tensor (one per output).", argument);
        ArgumentNullException.ThrowIfNull(images);
        if (!(options.ImageAlpha >= 0 && options.ImageAlpha <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.ImageAlpha, "ImageAlpha must be between 0 and 1.");
        var image = ImageData.From(images, options.Layout, nameof(images));
        var data = new ImageData[maps.Count];
        for (int o = 0; o < maps.Count; o++)
        {
            string what = $"{argument}[{o}]";
            if (maps[o] is null) throw new ArgumentNullException(argument, $"'{what}' is null.");
            if (!maps[o].IsInvalid && !maps[o].is_floating_point())
                throw new ArgumentException($"'{what}' must be floating point; it is {maps[o].dtype}.", argument);
            data[o] = ImageData.From(maps[o], options.Layout, what);
            if (data[o].N != image.N)
                throw new ArgumentException(
                    $"'{what}' has {data[o].N} sample(s) but 'images' has {image.N}: pass the images that were explained.", argument);
            if (!data[o].SameShape(data[0]))
                throw new ArgumentException(
                    $"'{what}' has shape {Shapes.Format(maps[o].shape)}; '{argument}[0]' has {Shapes.Format(maps[0].shape)}. " +
                    "Every output's tensor must have the same shape.", argument);
        }
        int rows = image.N, outputs = data.Length;
        CheckLabels(options, rows, outputs);
        if (data[0].C == 0 || data[0].H == 0 || data[0].W == 0)
            throw new ArgumentException($"'{argument}[0]' has shape {Shapes.Format(maps[0].shape)}: no pixels or no channels to draw.", argument);
        var sums = data.Select(d => d.ChannelSum()).ToArray();
        for (int o = 0; o < outputs; o++) RefuseNaN(sums[o], data[o], argument, o, variances);
        double scale = options.MaxValue ?? ScaleOf(sums.SelectMany(s => s), options.Percentile);
        if (!(scale >= 0) || double.IsInfinity(scale))
            throw new ArgumentOutOfRangeException(nameof(options), scale, options.MaxValue is null
                ? $"The colour scale came out as {scale}: '{argument}' holds infinite values. Set ImagePlotOptions.MaxValue."
                : "MaxValue must be a finite, non-negative number.");

        bool hasTitles = options.ColumnLabels is not null || options.PanelLabels is not null || options.RowLabels is not null;
        var layout = new ImagePlotLayout(rows, outputs, image.H, image.W, hasTitles, options);
        SKBitmap bitmap;
        try { bitmap = new SKBitmap(new SKImageInfo(layout.Width, layout.Height, SKColorType.Rgba8888, SKAlphaType.Premul)); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InsufficientMemoryException(
                $"SkiaSharp could not allocate the {layout.Width}×{layout.Height} figure ({4L * layout.Width * layout.Height} bytes): {e.Message}", e);
        }
        try
        {
            using (var canvas = new SKCanvas(bitmap)) canvas.Clear(SKColors.White);
            var pixels = new Pixels(bitmap);
            var (gray, display) = PrepareImages(image, options);
            int hw = image.H * image.W;
            int mapW = data[0].W, mapH = data[0].H, mapHw = mapW * mapH;
            for (int n = 0; n < rows; n++)
            {
                DrawImage(pixels, layout.Panel(n, 0), display[n], image.H, image.W);
                for (int o = 0; o < outputs; o++)
                {
                    var rect = layout.Panel(n, o + 1);
                    var sum = sums[o];
                    for (int py = 0; py < rect.Height; py++)
                    {
                        int iy = py * image.H / rect.Height, ay = py * mapH / rect.Height;
                        for (int px = 0; px < rect.Width; px++)
                        {
                            int ix = px * image.W / rect.Width, ax = px * mapW / rect.Width;
                            double v = sum[n * mapHw + ay * mapW + ax];
                            var c = variances
                                ? Viridis(scale > 0 ? v / scale : 0)
                                : Overlay(gray[n * hw + iy * image.W + ix], options.ImageAlpha, scale > 0 ? v / scale : 0);
                            pixels.Set(rect.Left + px, rect.Top + py, c);
                        }
                    }
                }
            }
            var bar = layout.ColorBar;
            for (int x = 0; x < bar.Width; x++)
            {
                double t = (x + 0.5) / bar.Width;
                var c = variances ? Viridis(t) : Overlay(1, 0, 2 * t - 1);
                for (int y = bar.Top; y < bar.Bottom; y++) pixels.Set(bar.Left + x, y, c);
            }
            bitmap.NotifyPixelsChanged();
            DrawText(bitmap, layout, options, scale, variances, rows, outputs);
            return bitmap;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    /// <summary>
    /// NaN would draw as zero (no colour), so a failed explanation would look like "nothing matters": refuse it and
    /// say where the first NaN is.
    /// </summary>
    private static void RefuseNaN(double[] sums, ImageData map, string argument, int output, bool variances)
    {
        int first = Array.FindIndex(sums, double.IsNaN);
        if (first < 0) return;
        int count = sums.Count(double.IsNaN);
        int hw = map.H * map.W, n = first / hw, y = first % hw / map.W, x = first % map.W;
        string kind = variances ? "variance" : "attribution";
        throw new ArgumentException(
            $"'{argument}[{output}]' holds NaN at {count} of {sums.Length} pixel(s) (summed over channels; the first at sample {n}, row {y}, " +
            $"column {x}). A NaN {kind} means the explanation failed (the model or its gradient gave NaN); ImagePlot refuses to " +
            "draw it because it would look like zero. Find the cause, or replace NaN explicitly (nan_to_num) to plot anyway.",
            argument);
    }

    private static void CheckLabels(ImagePlotOptions options, int rows, int outputs)
    {
        if (options.ColumnLabels is { } columns && columns.Count != outputs)
            throw new ArgumentException(
                $"ColumnLabels has {columns.Count} label(s); the figure has {outputs} output column(s).", nameof(options));
        if (options.RowLabels is { } rowLabels && rowLabels.Count != rows)
            throw new ArgumentException($"RowLabels has {rowLabels.Count} label(s); the figure has {rows} row(s).", nameof(options));
        if (options.PanelLabels is { } panels)
        {
            if (panels.Count != rows)
                throw new ArgumentException($"PanelLabels has {panels.Count} row(s); the figure has {rows}.", nameof(options));
            for (int r = 0; r < rows; r++)
                if (panels[r] is null || panels[r].Count != outputs)
                    throw new ArgumentException(
                        $"PanelLabels[{r}] has {panels[r]?.Count ?? 0} label(s); the figure has {outputs} output column(s).", nameof(options));
        }
    }

    /// <summary>Gray values in [0, 1] for the faint copy, and display colours for the image column.</summary>
    private static (double[] Gray, (byte R, byte G, byte B)[][] Display) PrepareImages(ImageData image, ImagePlotOptions options)
    {
        int hw = image.H * image.W;
        var gray = new double[image.N * hw];
        var display = new (byte, byte, byte)[image.N][];
        for (int n = 0; n < image.N; n++)
        {
            var raw = new double[hw];
            for (int p = 0; p < hw; p++)
            {
                int y = p / image.W, x = p % image.W;
                raw[p] = image.C == 3
                    ? 0.2989 * image.At(n, 0, y, x) + 0.5870 * image.At(n, 1, y, x) + 0.1140 * image.At(n, 2, y, x)
                    : Enumerable.Range(0, image.C).Average(c => image.At(n, c, y, x));
            }
            var (gmin, gmax) = options.ImageRange ?? MinMax(raw);
            for (int p = 0; p < hw; p++) gray[n * hw + p] = Normalize(raw[p], gmin, gmax);
            display[n] = new (byte, byte, byte)[hw];
            if (image.C == 3)
            {
                var all = new double[3 * hw];
                for (int c = 0; c < 3; c++)
                    for (int p = 0; p < hw; p++) all[c * hw + p] = image.At(n, c, p / image.W, p % image.W);
                var (min, max) = options.ImageRange ?? MinMax(all);
                if (options.ImageRange is null && min >= 0 && max <= 1) (min, max) = (0, 1);
                else if (options.ImageRange is null && min >= 0 && max <= 255) (min, max) = (0, 255);
                for (int p = 0; p < hw; p++)
                    display[n][p] = (ToByte(Normalize(all[p], min, max)), ToByte(Normalize(all[hw + p], min, max)),
                                     ToByte(Normalize(all[2 * hw + p], min, max)));
            }
            else
            {
                for (int p = 0; p < hw; p++)
                {
                    byte g = ToByte(gray[n * hw + p]);
                    display[n][p] = (g, g, g);
                }
            }
        }
        return (gray, display);
    }

    private static void DrawImage(Pixels pixels, SKRectI rect, (byte R, byte G, byte B)[] display, int h, int w)
    {
        for (int py = 0; py < rect.Height; py++)
        {
            int iy = py * h / rect.Height;
            for (int px = 0; px < rect.Width; px++)
                pixels.Set(rect.Left + px, rect.Top + py, display[iy * w + px * w / rect.Width]);
        }
    }

    /// <summary>
    /// The colour of a panel pixel: white paper, then the gray image at <paramref name="imageAlpha"/>, then shap's red
    /// (t &gt; 0) or blue (t &lt; 0) at opacity |t| (clipped to 1), where t is the value over the scale.
    /// </summary>
    internal static (byte R, byte G, byte B) Overlay(double gray, double imageAlpha, double t)
    {
        double baseValue = 1 - imageAlpha + imageAlpha * gray;
        if (double.IsNaN(t)) t = 0;
        double a = Math.Min(1, Math.Abs(t));
        var color = t >= 0 ? PositiveColor : NegativeColor;
        return (ToByte((1 - a) * baseValue + a * color.R / 255.0),
                ToByte((1 - a) * baseValue + a * color.G / 255.0),
                ToByte((1 - a) * baseValue + a * color.B / 255.0));
    }

    private static readonly (double T, byte R, byte G, byte B)[] ViridisStops =
    {
        (0.000, 68, 1, 84), (0.125, 71, 44, 122), (0.250, 59, 81, 139), (0.375, 44, 113, 142), (0.500, 33, 144, 141),
        (0.625, 39, 173, 129), (0.750, 92, 200, 99), (0.875, 170, 220, 50), (1.000, 253, 231, 37),
    };

    /// <summary>A viridis-like sequential colour for t in [0, 1] (clipped).</summary>
    internal static (byte R, byte G, byte B) Viridis(double t)
    {
        if (double.IsNaN(t)) t = 0;
        t = Math.Clamp(t, 0, 1);
        int i = Math.Min((int)(t * 8), 7);
        var (t0, r0, g0, b0) = ViridisStops[i];
        var (t1, r1, g1, b1) = ViridisStops[i + 1];
        double f = (t - t0) / (t1 - t0);
        return ((byte)Math.Round(r0 + f * (r1 - r0)), (byte)Math.Round(g0 + f * (g1 - g0)), (byte)Math.Round(b0 + f * (b1 - b0)));
    }

    private static void DrawText(SKBitmap bitmap, ImagePlotLayout layout, ImagePlotOptions options, double scale,
                                 bool variances, int rows, int outputs)
    {
        using var canvas = new SKCanvas(bitmap);
        using var paint = new SKPaint { Typeface = Font.Value, TextSize = options.FontSize, IsAntialias = true, Color = SKColors.Black };
        for (int n = 0; n < rows; n++)
        {
            if (options.RowLabels is { } rowLabels) Centered(canvas, paint, rowLabels[n], layout.Title(n, 0));
            for (int o = 0; o < outputs; o++)
            {
                string? title = options.PanelLabels?[n][o] ?? options.ColumnLabels?[o];
                if (title is not null) Centered(canvas, paint, title, layout.Title(n, o + 1));
            }
        }
        var bar = layout.ColorBar;
        using var tickPaint = new SKPaint { Color = new SKColor(80, 80, 80), StrokeWidth = 1, IsAntialias = false };
        foreach (double value in Ticks(scale, variances))
        {
            double x01 = scale > 0 ? (variances ? value / scale : (value / scale + 1) / 2) : (variances ? 0 : 0.5);
            int x = bar.Left + (int)Math.Round(x01 * (bar.Width - 1));
            canvas.DrawLine(x, bar.Bottom, x, bar.Bottom + 4, tickPaint);
            string text = FormatTick(value);
            float w = paint.MeasureText(text);
            var r = layout.ColorBarTicks;
            Centered(canvas, paint, text, new SKRectI((int)(x - w), r.Top + 4, (int)(x + w), r.Bottom));
        }
        Centered(canvas, paint, options.ColorBarLabel ?? (variances ? "Variance" : "SHAP value"), layout.ColorBarTitle);
    }

    private static void Centered(SKCanvas canvas, SKPaint paint, string text, SKRectI rect)
    {
        if (string.IsNullOrEmpty(text) || rect.Height <= 0) return;
        float size = paint.TextSize;
        float width = paint.MeasureText(text);
        if (width > rect.Width && rect.Width > 0)
        {
            using var fitted = paint.Clone();
            fitted.TextSize = Math.Max(6f, size * rect.Width / width);
            DrawAt(canvas, fitted, text, rect);
            return;
        }
        DrawAt(canvas, paint, text, rect);
    }

    private static void DrawAt(SKCanvas canvas, SKPaint paint, string text, SKRectI rect)
    {
        float width = paint.MeasureText(text);
        var metrics = paint.FontMetrics;
        float baseline = rect.Top + (rect.Height - (metrics.Descent - metrics.Ascent)) / 2 - metrics.Ascent;
        canvas.Save();
        canvas.ClipRect(new SKRect(rect.Left, rect.Top, rect.Right, rect.Bottom));
        canvas.DrawText(text, rect.Left + (rect.Width - width) / 2, baseline, paint);
        canvas.Restore();
    }

    /// <summary>Round tick values (1, 2, 2.5 or 5 × 10^k apart, about five of them) within the scale, zero included.</summary>
    internal static double[] Ticks(double scale, bool fromZero)
    {
        if (!(scale > 0) || double.IsInfinity(scale)) return new[] { 0.0 };
        double raw = scale / 2.5;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double f = raw / magnitude;
        double step = magnitude * (f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10);
        int count = (int)Math.Floor(scale / step * (1 + 1e-9));
        return Enumerable.Range(fromZero ? 0 : -count, fromZero ? count + 1 : 2 * count + 1)
            .Select(k => k == 0 ? 0 : Math.Round(k * step / magnitude, 6) * magnitude)
            .ToArray();
    }

    internal static string FormatTick(double value) =>
        value == 0 ? "0" : value.ToString("G4", CultureInfo.InvariantCulture);

    private static (double Min, double Max) MinMax(double[] values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (double.IsNaN(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return double.IsInfinity(min) ? (0, 1) : (min, max);
    }

    private static double Normalize(double v, double min, double max) =>
        max > min ? Math.Clamp((v - min) / (max - min), 0, 1) : 0;

    private static byte ToByte(double unit) => (byte)Math.Round(Math.Clamp(unit, 0, 1) * 255);

    private static SKTypeface LoadFont()
    {
        using var stream = typeof(ImagePlot).Assembly.GetManifestResourceStream("ShapGen.Plotting.DejaVuSans.ttf")
            ?? throw new InvalidOperationException("The embedded font ShapGen.Plotting.DejaVuSans.ttf is missing from the assembly.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        using var data = SKData.CreateCopy(memory.ToArray());
        return SKTypeface.FromData(data)
            ?? throw new InvalidOperationException("SkiaSharp could not load the embedded DejaVu Sans font.");
    }

    /// <summary>The embedded typeface used for all text (DejaVu Sans).</summary>
    internal static SKTypeface Typeface => Font.Value;

    /// <summary>Direct writes into an RGBA8888 bitmap's pixel memory.</summary>
    private readonly struct Pixels
    {
        private readonly IntPtr _base;
        private readonly int _rowBytes;

        public Pixels(SKBitmap bitmap)
        {
            _base = bitmap.GetPixels();
            _rowBytes = bitmap.RowBytes;
        }

        public unsafe void Set(int x, int y, (byte R, byte G, byte B) c)
        {
            byte* p = (byte*)_base + (long)y * _rowBytes + 4L * x;
            p[0] = c.R; p[1] = c.G; p[2] = c.B; p[3] = 255;
        }
    }
}
