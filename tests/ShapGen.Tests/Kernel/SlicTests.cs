using System;
using System.Collections.Generic;
using System.Linq;
using ShapGen;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Kernel;

public sealed class SlicTests
{
    private static double[] Blobs(int h, int w, int c, int seed)
    {
        var rng = new Random(seed);
        var img = new double[h * w * c];
        var centres = Enumerable.Range(0, 6).Select(_ => (Y: rng.NextDouble() * h, X: rng.NextDouble() * w, R: 2 + rng.NextDouble() * h / 4)).ToArray();
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)
                {
                    double v = 10 * rng.NextDouble();
                    foreach (var (cy, cx, r) in centres)
                        if ((y - cy) * (y - cy) + (x - cx) * (x - cx) < r * r) v += 200 + 20 * ch;
                    img[(y * w + x) * c + ch] = v;
                }
        return img;
    }

    /// <summary>Every segment id's pixels form one 4-connected component.</summary>
    private static void AssertConnected(Segmentation s)
    {
        var seen = new bool[s.Height * s.Width];
        var labels = s.ToArray();
        var components = new int[s.Count];
        for (int start = 0; start < labels.Length; start++)
        {
            if (seen[start]) continue;
            components[labels[start]]++;
            var queue = new Queue<int>();
            queue.Enqueue(start);
            seen[start] = true;
            while (queue.Count > 0)
            {
                int p = queue.Dequeue(), y = p / s.Width, x = p % s.Width;
                foreach (var (dy, dx) in new[] { (0, 1), (0, -1), (1, 0), (-1, 0) })
                {
                    int yy = y + dy, xx = x + dx;
                    if (yy < 0 || yy >= s.Height || xx < 0 || xx >= s.Width) continue;
                    int q = yy * s.Width + xx;
                    if (!seen[q] && labels[q] == labels[p]) { seen[q] = true; queue.Enqueue(q); }
                }
            }
        }
        Assert.All(components, c => Assert.Equal(1, c));
    }

    [Theory]
    [InlineData(28, 28, 1, 200, 0.0)]
    [InlineData(28, 28, 1, 50, 1.0)]
    [InlineData(40, 60, 3, 100, 0.0)]
    [InlineData(33, 17, 3, 30, 2.0)]
    public void Segments_are_connected_dense_bounded_and_deterministic(int h, int w, int c, int n, double sigma)
    {
        var img = Blobs(h, w, c, seed: h + w + c);
        var options = new SlicOptions { NSegments = n, Sigma = sigma };
        var a = Slic.Segment(img, h, w, c, options);
        var b = Slic.Segment(img, h, w, c, options);
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.Equal(h, a.Height);
        Assert.Equal(w, a.Width);
        // skimage's grid gives at most about n centroids; connectivity may split a few (slack as in skimage).
        Assert.InRange(a.Count, 2, (int)(n * 1.5) + 2);
        Assert.Equal(Enumerable.Range(0, a.Count), a.ToArray().Distinct().OrderBy(v => v));
        AssertConnected(a);
    }

    [Fact]
    public void Constant_image_gives_the_regular_grid()
    {
        // 28×28 with n = 200: skimage's grid has step 2 → 14 × 14 centroids, and a constant image leaves the
        // pure spatial k-means on that grid: 196 blocks of 2×2 pixels.
        var s = Slic.Segment(new double[28 * 28], 28, 28, 1, new SlicOptions { NSegments = 200 });
        Assert.Equal(196, s.Count);
        Assert.All(s.SegmentSizes(), size => Assert.Equal(4, size));
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                Assert.Equal(s[y / 2 * 2, x / 2 * 2], s[y, x]);
        AssertConnected(s);
    }

    [Fact]
    public void Grid_follows_skimage_regular_grid()
    {
        var (centroids, steps) = Slic.GridCentroids(28, 28, 200);
        Assert.Equal(196, centroids.Count);
        Assert.Equal((2, 2), steps);
        Assert.Equal((0.0, 0.0), centroids[0]);
        var (c2, s2) = Slic.GridCentroids(20, 40, 32); // skimage docstring: slice(2, None, 5) on both axes → 4 × 8
        Assert.Equal((5, 5), s2);
        Assert.Equal(32, c2.Count);
        Assert.Equal((2.0, 2.0), c2[0]);
    }

    [Fact]
    public void Segments_do_not_straddle_a_sharp_edge()
    {
        int h = 20, w = 20;
        var img = new double[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) img[y * w + x] = x < 9 ? 0 : 255;
        var s = Slic.Segment(img, h, w, 1, new SlicOptions { NSegments = 25 });
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int x2 = 0; x2 < w; x2++)
                    if (s[y, x] == s[y, x2]) Assert.Equal(x < 9, x2 < 9);
    }

    [Fact]
    public void Tensor_layouts_give_the_same_segmentation()
    {
        var img = Blobs(24, 30, 3, seed: 2);
        var hwc = tensor(img, new long[] { 24, 30, 3 }, float64);
        var chw = hwc.permute(2, 0, 1).contiguous();
        var a = Slic.Segment(hwc, channelsLast: true, new SlicOptions { NSegments = 40 });
        var b = Slic.Segment(chw, channelsLast: false, new SlicOptions { NSegments = 40 });
        Assert.Equal(a.ToArray(), b.ToArray());
        var ex = Assert.Throws<ArgumentException>(() => Slic.Segment(new double[5], 2, 2, 1));
        Assert.Contains("expected", ex.Message);
        Assert.Throws<ArgumentException>(() => Slic.Segment(new[] { 1.0, double.NaN, 0, 0 }, 2, 2, 1));
    }

    [Theory]
    [InlineData(new long[] { 0, 0 }, true)]
    [InlineData(new long[] { 0, 0, 3 }, true)]
    [InlineData(new long[] { 4, 0, 1 }, true)]
    [InlineData(new long[] { 5, 5, 0 }, true)]
    [InlineData(new long[] { 3, 0, 5 }, false)]
    public void Empty_images_are_refused_naming_the_image_and_its_shape(long[] shape, bool channelsLast)
    {
        using var image = zeros(shape);
        var e = Assert.Throws<ArgumentException>(() => Slic.Segment(image, channelsLast));
        Assert.Equal("image", e.ParamName);
        Assert.Contains($"image has shape {Shapes.Format(shape)}", e.Message);
        Assert.Contains("at least one row, one column and one channel", e.Message);
    }
}
