using System;
using System.IO;
using System.Linq;
using ShapGen.Tests.Infrastructure;
using SkiaSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Plotting;

public sealed class ImagePlotTests
{
    private const int H = 8, W = 8;

    // Small, exact sizes so that every image pixel covers a 10×10 block of the panel.
    private static readonly ImagePlotOptions Small = new() { PanelWidth = 80, Spacing = 10, Margin = 8, FontSize = 12 };

    /// <summary>Gray image: pixel (y, x) = (x + 8·y) / 63, so min 0 and max 1 (no rescaling by the plot).</summary>
    private static Tensor GradientImages(int n) =>
        arange(H * W, dtype: float64).div(H * W - 1).reshape(1, 1, H, W).expand(n, 1, H, W).contiguous();

    /// <summary>Rows 0–1 zero, row 2 ±0.5, rows 3–7 ±1: positive in the left half, negative in the right half.</summary>
    private static double KnownValue(int y, int x)
    {
        if (y < 2) return 0;
        double magnitude = y == 2 ? 0.5 : 1.0;
        return x < W / 2 ? magnitude : -magnitude;
    }

    private static Tensor KnownAttribution(int n, double sign = 1)
    {
        var values = new double[n * H * W];
        for (int s = 0; s < n; s++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) values[(s * H + y) * W + x] = sign * KnownValue(y, x);
        return tensor(values, new long[] { n, 1, H, W }, dtype: float32);
    }

    private static SKBitmap Decode(byte[] png) => SKBitmap.Decode(png) ?? throw new InvalidDataException("not a PNG");

    private static (int X, int Y) Center(SKRectI panel, int y, int x) =>
        (panel.Left + (2 * x + 1) * panel.Width / (2 * W), panel.Top + (2 * y + 1) * panel.Height / (2 * H));

    private static void AssertColor(SKColor actual, double r, double g, double b, string where)
    {
        Assert.True(Math.Abs(actual.Red - r) <= 1 && Math.Abs(actual.Green - g) <= 1 && Math.Abs(actual.Blue - b) <= 1,
            $"{where}: expected ({r:F1}, {g:F1}, {b:F1}), got ({actual.Red}, {actual.Green}, {actual.Blue}).");
    }

    [Fact]
    public void Known_attribution_is_red_where_positive_blue_where_negative_and_the_faint_image_where_zero()
    {
        using var scope = NewDisposeScope();
        var images = GradientImages(2);
        var attributions = new[] { KnownAttribution(2), KnownAttribution(2, sign: -1), KnownAttribution(2) };
        using var bitmap = Decode(ImagePlot.RenderPng(attributions, images, Small));
        var layout = new ImagePlotLayout(2, 3, H, W, hasTitles: false, Small);

        // shap's red_transparent_blue ends (matplotlib colours (1, 0, 0.318) and (0, 0.541, 0.984)).
        double[] red = { 255, 0, 0.318 * 255 }, blue = { 0, 0.541 * 255, 0.984 * 255 };
        for (int row = 0; row < 2; row++)
        {
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    double gray = (x + 8.0 * y) / 63;
                    var (ix, iy) = Center(layout.Panel(row, 0), y, x);
                    AssertColor(bitmap.GetPixel(ix, iy), 255 * gray, 255 * gray, 255 * gray, $"image ({row},{y},{x})");
                    for (int o = 0; o < 3; o++)
                    {
                        double v = KnownValue(y, x) * (o == 1 ? -1 : 1); // the scale is 1: the 99.9th percentile of |v|
                        double paper = 255 * (0.85 + 0.15 * gray);
                        double[] tint = v >= 0 ? red : blue;
                        double a = Math.Abs(v);
                        var (px, py) = Center(layout.Panel(row, o + 1), y, x);
                        AssertColor(bitmap.GetPixel(px, py), (1 - a) * paper + a * tint[0], (1 - a) * paper + a * tint[1],
                                    (1 - a) * paper + a * tint[2], $"panel ({row},{o},{y},{x}) value {v}");
                    }
                }
        }
    }

    [Fact]
    public void Colour_bar_runs_from_blue_through_white_to_red()
    {
        using var scope = NewDisposeScope();
        using var bitmap = Decode(ImagePlot.RenderPng(new[] { KnownAttribution(1) }, GradientImages(1), Small));
        var bar = new ImagePlotLayout(1, 1, H, W, hasTitles: false, Small).ColorBar;
        int y = (bar.Top + bar.Bottom) / 2;
        var left = bitmap.GetPixel(bar.Left, y);
        var right = bitmap.GetPixel(bar.Right - 1, y);
        var middle = bitmap.GetPixel((bar.Left + bar.Right) / 2, y);
        Assert.True(left.Blue > 240 && left.Red < 10, $"left end {left}");
        Assert.True(right.Red > 250 && right.Green < 10, $"right end {right}");
        Assert.True(middle.Red > 245 && middle.Green > 245 && middle.Blue > 245, $"middle {middle}");
        // A gradient: redness grows monotonically left to right over the right half.
        for (int x = (bar.Left + bar.Right) / 2; x < bar.Right - 1; x++)
            Assert.True(bitmap.GetPixel(x + 1, y).Green <= bitmap.GetPixel(x, y).Green);
    }

    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(2, 3, true)]
    [InlineData(3, 10, true)]
    public void Figure_size_follows_rows_and_columns(int rows, int outputs, bool titles)
    {
        using var scope = NewDisposeScope();
        var attributions = Enumerable.Range(0, outputs).Select(_ => KnownAttribution(rows)).ToArray();
        var options = titles ? Small with { ColumnLabels = Enumerable.Range(0, outputs).Select(o => $"class {o}").ToArray() } : Small;
        using var bitmap = Decode(ImagePlot.RenderPng(attributions, GradientImages(rows), options));
        // Hand layout: 8 margin, 80×80 panels (8×8 image), 10 spacing, 12 px text → 18 px lines, 12 px colour bar.
        int width = 2 * 8 + (outputs + 1) * 80 + outputs * 10;
        int title = titles ? 18 : 0;
        int height = 2 * 8 + rows * (title + 80) + (rows - 1) * 10 + 10 + 12 + 2 * 18;
        Assert.Equal(width, bitmap.Width);
        Assert.Equal(height, bitmap.Height);
    }

    [Fact]
    public void Panel_height_follows_the_image_aspect_ratio()
    {
        using var scope = NewDisposeScope();
        var image = rand(1, 1, 4, 8);
        using var bitmap = ImagePlot.Render(new[] { randn(1, 1, 4, 8) }, image, Small);
        Assert.Equal(2 * 8 + 2 * 80 + 10, bitmap.Width);
        Assert.Equal(2 * 8 + 40 + 10 + 12 + 2 * 18, bitmap.Height);
    }

    private static int DarkPixels(SKBitmap bitmap, SKRectI rect)
    {
        int count = 0;
        for (int y = rect.Top; y < rect.Bottom; y++)
            for (int x = rect.Left; x < rect.Right; x++)
                if (bitmap.GetPixel(x, y).Red < 128) count++;
        return count;
    }

    [Fact]
    public void Titles_row_labels_and_colour_bar_text_are_drawn_with_the_embedded_font()
    {
        using var scope = NewDisposeScope();
        var options = Small with { ColumnLabels = new[] { "cat", "dog" }, RowLabels = new[] { "seven" } };
        using var bitmap = Decode(ImagePlot.RenderPng(new[] { KnownAttribution(1), KnownAttribution(1) }, GradientImages(1), options));
        var layout = new ImagePlotLayout(1, 2, H, W, hasTitles: true, options);
        Assert.True(DarkPixels(bitmap, layout.Title(0, 0)) > 10, "row label");
        Assert.True(DarkPixels(bitmap, layout.Title(0, 1)) > 10, "column 1 title");
        Assert.True(DarkPixels(bitmap, layout.Title(0, 2)) > 10, "column 2 title");
        Assert.True(DarkPixels(bitmap, layout.ColorBarTitle) > 20, "'SHAP value'");
        Assert.True(DarkPixels(bitmap, layout.ColorBarTicks) > 10, "tick labels");
        // Different text, different pixels: the glyphs really come from the font.
        using var other = Decode(ImagePlot.RenderPng(new[] { KnownAttribution(1), KnownAttribution(1) }, GradientImages(1),
            options with { ColumnLabels = new[] { "cat", "owl" } }));
        Assert.Equal(DarkPixels(bitmap, layout.Title(0, 1)), DarkPixels(other, layout.Title(0, 1)));
        Assert.NotEqual(Pixels(bitmap, layout.Title(0, 2)), Pixels(other, layout.Title(0, 2)));
        Assert.Equal("DejaVu Sans", ImagePlot.Typeface.FamilyName);
    }

    private static string Pixels(SKBitmap bitmap, SKRectI rect) =>
        string.Join(",", Enumerable.Range(rect.Top, rect.Height).SelectMany(y => Enumerable.Range(rect.Left, rect.Width).Select(x => bitmap.GetPixel(x, y).Red)));

    [Fact]
    public void Without_titles_there_is_no_title_strip_and_no_text_above_the_panels()
    {
        using var scope = NewDisposeScope();
        using var bitmap = Decode(ImagePlot.RenderPng(new[] { KnownAttribution(1) }, GradientImages(1), Small));
        var layout = new ImagePlotLayout(1, 1, H, W, hasTitles: false, Small);
        Assert.Equal(0, layout.TitleHeight);
        Assert.Equal(0, DarkPixels(bitmap, new SKRectI(0, 0, bitmap.Width, layout.Panel(0, 0).Top)));
    }

    [Fact]
    public void Colour_images_channels_last_and_channels_first_give_the_same_picture_and_channels_are_summed()
    {
        using var scope = NewDisposeScope();
        var last = rand(new long[] { 2, H, W, 3 }, generator: new Generator(3));
        // Channel shares 0.5/0.25/0.25 of the known value: the sum is the known value.
        var share = tensor(new[] { 0.5f, 0.25f, 0.25f });
        var attrLast = KnownAttribution(2).reshape(2, H, W, 1) * share;
        using var a = Decode(ImagePlot.RenderPng(new[] { attrLast }, last, Small));
        using var b = Decode(ImagePlot.RenderPng(new[] { attrLast.permute(0, 3, 1, 2) }, last.permute(0, 3, 1, 2), Small));
        Assert.Equal(Pixels(a, new SKRectI(0, 0, a.Width, a.Height)), Pixels(b, new SKRectI(0, 0, b.Width, b.Height)));
        var layout = new ImagePlotLayout(2, 1, H, W, hasTitles: false, Small);
        var (px, py) = Center(layout.Panel(1, 1), 5, 1);
        AssertColor(a.GetPixel(px, py), 255, 0, 0.318 * 255, "full positive sum");
        // The image column shows the RGB colours (values already in [0, 1]).
        var (ix, iy) = Center(layout.Panel(0, 0), 3, 6);
        var rgb = last[0, 3, 6].data<float>().ToArray();
        AssertColor(a.GetPixel(ix, iy), 255 * rgb[0], 255 * rgb[1], 255 * rgb[2], "RGB image pixel");
    }

    [Fact]
    public void Ambiguous_channel_layout_needs_an_explicit_option()
    {
        using var scope = NewDisposeScope();
        var images = rand(1, 3, 5, 3);
        var ex = Assert.Throws<ArgumentException>(() => ImagePlot.Render(new[] { randn(1, 3, 5, 3) }, images, Small));
        Assert.Contains("[1, 3, 5, 3]", ex.Message);
        Assert.Contains("ChannelsFirst", ex.Message);
        using var first = ImagePlot.Render(new[] { randn(1, 3, 5, 3) }, images, Small with { Layout = ChannelLayout.ChannelsFirst });
        Assert.Equal(2 * 8 + 2 * 80 + 10, first.Width);
        Assert.Equal(2 * 8 + 80 * 5 / 3 + 10 + 12 + 2 * 18, first.Height); // H = 5, W = 3: 133 px panels
    }

    [Fact]
    public void Mismatched_inputs_fail_with_messages_that_name_them()
    {
        using var scope = NewDisposeScope();
        var e1 = Assert.Throws<ArgumentException>(() => ImagePlot.Render(new[] { KnownAttribution(3) }, GradientImages(2), Small));
        Assert.Contains("3 sample(s)", e1.Message);
        Assert.Contains("2", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() =>
            ImagePlot.Render(new[] { KnownAttribution(2) }, GradientImages(2), Small with { ColumnLabels = new[] { "a", "b" } }));
        Assert.Contains("ColumnLabels has 2", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => ImagePlot.Render(new[] { KnownAttribution(2) }, zeros(new long[] { 2, 5, 7, 9, 11 }), Small));
        Assert.Contains("images", e3.Message);
        Assert.Throws<ArgumentException>(() => ImagePlot.Render(Array.Empty<Tensor>(), GradientImages(2), Small));
    }

    [Theory]
    [InlineData(1_000_000, 12, 8, 8, "PanelWidth 1000000")]
    [InlineData(int.MaxValue, 12, 8, 8, "PanelWidth 2147483647")]
    [InlineData(160, 12, 100_000, 1, "160×16000000 panels")]      // a tall image: the panel height follows its aspect ratio
    [InlineData(160, 100_000, 8, 8, "FontSize 100000")]
    [InlineData(5_000, 12, 2, 1, "10044×10092")]                   // under the side limit, over the area limit
    public void Oversized_figures_are_refused_with_their_size_before_allocating(int panelWidth, float fontSize, int h, int w, string detail)
    {
        using var scope = NewDisposeScope();
        var options = new ImagePlotOptions { PanelWidth = panelWidth, FontSize = fontSize };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ImagePlot.Render(new[] { zeros(1, h, w) }, zeros(1, h, w), options));
        Assert.Equal("options", e.ParamName);
        Assert.Contains("The figure would be", e.Message);
        Assert.Contains($"at most {ImagePlotLayout.MaxSide} pixels per side and {ImagePlotLayout.MaxPixels} pixels in all", e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void A_figure_just_under_the_side_limit_renders()
    {
        // One row, one output of 1×100 images: width 2·16 + 2·16,361 + 12 = 32,766; height 2·16 + round(16,361 / 100)
        // + 12 + round(14) + 2·ceil(1.5·14) = 264.
        using var scope = NewDisposeScope();
        var options = new ImagePlotOptions { PanelWidth = (ImagePlotLayout.MaxSide - 44) / 2 };
        using var bitmap = ImagePlot.Render(new[] { ones(1, 1, 100) }, zeros(1, 1, 100), options);
        Assert.Equal(ImagePlotLayout.MaxSide - 1, bitmap.Width);
        Assert.Equal(264, bitmap.Height);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePlotLayout(1, 1, 1, 100, false, options with { PanelWidth = options.PanelWidth + 1 }));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void NaN_attributions_are_refused_rather_than_drawn_as_zero(bool partly, bool withMaxValue)
    {
        using var scope = NewDisposeScope();
        var values = KnownAttribution(2);
        if (partly) values[1, 0, 3, 5] = tensor(float.NaN);
        else values.fill_(float.NaN);
        var options = withMaxValue ? Small with { MaxValue = 1 } : Small;
        var e = Assert.Throws<ArgumentException>(() => ImagePlot.Render(new[] { KnownAttribution(2), values }, GradientImages(2), options));
        Assert.Equal("attributionsPerOutput", e.ParamName);
        Assert.Contains(partly ? "'attributionsPerOutput[1]' holds NaN at 1 of 128 pixel(s)" : "holds NaN at 128 of 128 pixel(s)", e.Message);
        Assert.Contains(partly ? "the first at sample 1, row 3, column 5" : "the first at sample 0, row 0, column 0", e.Message);
        Assert.Contains("would look like zero", e.Message);
        var v = Assert.Throws<ArgumentException>(() => ImagePlot.RenderVariances(new[] { values }, GradientImages(2), options));
        Assert.Contains("A NaN variance", v.Message);
    }

    [Fact]
    public void Scale_is_numpys_linear_percentile_of_absolute_values()
    {
        // 1001 values −0..−1000: sorted |v| = 0..1000, rank 0.999·1000 = 999 exactly.
        Assert.Equal(999.0, ImagePlot.ScaleOf(Enumerable.Range(0, 1001).Select(i => -(double)i)), 12);
        // 0..9 at the 50th percentile: rank 4.5 → 4.5; NaN is ignored.
        Assert.Equal(4.5, ImagePlot.ScaleOf(Enumerable.Range(0, 10).Select(i => (double)i).Append(double.NaN), 50), 12);
        Assert.Equal(7.0, ImagePlot.ScaleOf(new[] { 7.0 }), 12);
    }

    [Theory]
    [InlineData(0.454, false, new[] { -0.4, -0.2, 0, 0.2, 0.4 })]
    [InlineData(5.49, false, new[] { -4.0, -2, 0, 2, 4 })]
    [InlineData(1.0, false, new[] { -1.0, -0.5, 0, 0.5, 1 })]
    [InlineData(1.0, true, new[] { 0, 0.5, 1 })]
    [InlineData(0.0031, true, new[] { 0, 0.001, 0.002, 0.003 })]
    [InlineData(0.0, false, new[] { 0.0 })]
    public void Colour_bar_ticks_are_round_numbers_within_the_scale(double scale, bool fromZero, double[] expected)
    {
        var ticks = ImagePlot.Ticks(scale, fromZero);
        Assert.Equal(expected.Length, ticks.Length);
        for (int i = 0; i < ticks.Length; i++) Assert.Equal(expected[i], ticks[i], 12);
        Assert.Equal("0.2", ImagePlot.FormatTick(0.2));
        Assert.Equal("-4", ImagePlot.FormatTick(-4));
    }

    [Fact]
    public void One_scale_for_the_whole_figure_set_by_the_largest_values_anywhere()
    {
        using var scope = NewDisposeScope();
        // Output 0 holds values up to 1, output 1 up to 4 everywhere: the scale is 4, so 1 is drawn at opacity 1/4.
        var small = KnownAttribution(1);
        var large = full(1, 1, H, W, 4.0f);
        using var bitmap = Decode(ImagePlot.RenderPng(new[] { small, large }, GradientImages(1), Small));
        var layout = new ImagePlotLayout(1, 2, H, W, hasTitles: false, Small);
        var (px, py) = Center(layout.Panel(0, 1), 5, 0);
        double gray = (0 + 8.0 * 5) / 63, paper = 255 * (0.85 + 0.15 * gray);
        AssertColor(bitmap.GetPixel(px, py), 0.75 * paper + 0.25 * 255, 0.75 * paper, 0.75 * paper + 0.25 * 0.318 * 255, "value 1 of scale 4");
    }

    [Fact]
    public void Explanation_overload_titles_ranked_outputs_per_sample_from_labels()
    {
        using var scope = NewDisposeScope();
        var labels = new[] { "zero", "one", "two", "three" };
        var values = new[] { new[] { KnownAttribution(2) }, new[] { KnownAttribution(2, -1) } };
        var indexes = tensor(new long[] { 3, 1, 0, 2 }, new long[] { 2, 2 });
        using var explanation = new Explanation(values.Select(r => r.Select(t => t.clone()).ToArray()).ToArray(),
                                                zeros(4), outputIndexes: indexes.clone(), labels: labels);
        var fromExplanation = ImagePlot.RenderPng(explanation, 0, GradientImages(2), Small);
        var byHand = ImagePlot.RenderPng(new[] { values[0][0], values[1][0] }, GradientImages(2),
            Small with { PanelLabels = new[] { new[] { "three", "one" }, new[] { "zero", "two" } } });
        Assert.Equal(byHand, fromExplanation);
        var wrong = ImagePlot.RenderPng(new[] { values[0][0], values[1][0] }, GradientImages(2),
            Small with { ColumnLabels = new[] { "three", "one" } });
        Assert.NotEqual(wrong, fromExplanation);
    }

    [Fact]
    public void Explanation_overload_without_ranking_titles_columns_with_labels()
    {
        using var scope = NewDisposeScope();
        using var explanation = new Explanation(new[] { new[] { KnownAttribution(1) }, new[] { KnownAttribution(1, -1) } },
                                                zeros(2), labels: new[] { "cat", "dog" });
        var fromExplanation = ImagePlot.RenderPng(explanation, 0, GradientImages(1), Small);
        var byHand = ImagePlot.RenderPng(new[] { explanation[0, 0], explanation[1, 0] }, GradientImages(1),
            Small with { ColumnLabels = new[] { "cat", "dog" } });
        Assert.Equal(byHand, fromExplanation);
    }

    [Fact]
    public void Variance_picture_uses_a_sequential_map_from_zero_to_the_scale()
    {
        using var scope = NewDisposeScope();
        var variances = KnownAttribution(1).abs(); // 0, 0.5 and 1
        using var explanation = new Explanation(new[] { new[] { KnownAttribution(1) } }, zeros(1),
                                                variances: new[] { new[] { variances.clone() } });
        using var bitmap = ImagePlot.RenderVariances(explanation, 0, GradientImages(1), Small);
        var layout = new ImagePlotLayout(1, 1, H, W, hasTitles: true, Small);
        var (zx, zy) = Center(layout.Panel(0, 1), 0, 0);
        var (mx, my) = Center(layout.Panel(0, 1), 2, 0);
        var (hx, hy) = Center(layout.Panel(0, 1), 6, 6);
        AssertColor(bitmap.GetPixel(zx, zy), 68, 1, 84, "zero variance: viridis start");
        AssertColor(bitmap.GetPixel(mx, my), 33, 144, 141, "half: viridis middle");
        AssertColor(bitmap.GetPixel(hx, hy), 253, 231, 37, "largest: viridis end");
        var bar = layout.ColorBar;
        var start = bitmap.GetPixel(bar.Left, bar.Top + 1);
        Assert.True(Math.Abs(start.Red - 68) <= 2 && start.Green <= 5 && Math.Abs(start.Blue - 84) <= 2, $"colour bar start {start}");
        Assert.True(DarkPixels(bitmap, layout.ColorBarTitle) > 20, "'Variance'");
    }

    [Fact]
    public void Flat_square_inputs_and_float64_or_integer_images_are_accepted()
    {
        using var scope = NewDisposeScope();
        var flat = KnownAttribution(2).reshape(2, H * W).to_type(float64);
        var pixels = GradientImages(2).mul(255).round().to_type(ScalarType.Byte).reshape(2, H * W);
        using var bitmap = ImagePlot.Render(new[] { flat }, pixels, Small);
        var layout = new ImagePlotLayout(2, 1, H, W, hasTitles: false, Small);
        var (px, py) = Center(layout.Panel(1, 1), 7, 0);
        AssertColor(bitmap.GetPixel(px, py), 255, 0, 0.318 * 255, "positive");
    }

    [Fact]
    public void Attributions_of_an_inner_layer_may_be_coarser_than_the_image()
    {
        using var scope = NewDisposeScope();
        // 16 channels of 4×4 (channels-first: neither dimension 1 nor 3 is 1 or 3) over an 8×8 image: each attribution
        // cell covers 2×2 image pixels. Cell (1, 0) sums to +16 (the scale), cell (2, 3) to −16, the rest to 0.
        var a = zeros(1, 16, 4, 4);
        a[0, .., 1, 0] = tensor(1f);
        a[0, .., 2, 3] = tensor(-1f);
        using var bitmap = ImagePlot.Render(new[] { a }, GradientImages(1), Small with { MaxValue = 16 });
        var layout = new ImagePlotLayout(1, 1, H, W, hasTitles: false, Small);
        var panel = layout.Panel(0, 1);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
            {
                var (px, py) = Center(panel, y, x);
                double gray = (x + 8.0 * y) / 63, paper = 255 * (0.85 + 0.15 * gray);
                var c = bitmap.GetPixel(px, py);
                if (y / 2 == 1 && x / 2 == 0) AssertColor(c, 255, 0, 0.318 * 255, $"({y},{x})");
                else if (y / 2 == 2 && x / 2 == 3) AssertColor(c, 0, 0.541 * 255, 0.984 * 255, $"({y},{x})");
                else AssertColor(c, paper, paper, paper, $"({y},{x})");
            }
    }

    [Fact]
    public void Save_writes_a_png_file()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(Path.GetTempPath(), $"shapgen-plot-{Guid.NewGuid():N}.png");
        try
        {
            ImagePlot.Save(path, new[] { KnownAttribution(1) }, GradientImages(1), Small with { ColumnLabels = new[] { "7" } });
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes.Take(4).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [CudaFact]
    public void Cuda_tensors_render_like_cpu_tensors()
    {
        using var scope = NewDisposeScope();
        var a = KnownAttribution(2);
        var img = GradientImages(2);
        var cpu = ImagePlot.RenderPng(new[] { a }, img, Small);
        var gpu = ImagePlot.RenderPng(new[] { a.cuda() }, img.cuda(), Small);
        Assert.Equal(cpu, gpu);
    }
}
