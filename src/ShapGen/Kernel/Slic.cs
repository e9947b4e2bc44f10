using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>Parameters of <see cref="Slic"/> (names and defaults of <c>skimage.segmentation.slic</c>).</summary>
public sealed class SlicOptions
{
    /// <summary>Approximate number of superpixels (skimage's <c>n_segments</c>; DIANNA passes 200 in its tutorial).</summary>
    public int NSegments { get; set; } = 100;

    /// <summary>Balance of colour and space proximity; larger gives squarer segments (<c>compactness</c>).</summary>
    public double Compactness { get; set; } = 10.0;

    /// <summary>Standard deviation of the Gaussian pre-smoothing in pixels; 0 smooths nothing (<c>sigma</c>).</summary>
    public double Sigma { get; set; }

    /// <summary>Maximum number of k-means iterations (<c>max_num_iter</c>).</summary>
    public int MaxIterations { get; set; } = 10;

    /// <summary>Merge small pieces and split disconnected ones so that every segment is connected (<c>enforce_connectivity</c>).</summary>
    public bool EnforceConnectivity { get; set; } = true;

    /// <summary>Pieces smaller than this fraction of the mean segment size are merged into a neighbour (<c>min_size_factor</c>).</summary>
    public double MinSizeFactor { get; set; } = 0.5;

    /// <summary>Connected pieces stop growing at this multiple of the mean segment size (<c>max_size_factor</c>).</summary>
    public double MaxSizeFactor { get; set; } = 3.0;

    /// <summary>Convert a 3-channel image to CIELAB before clustering; null converts exactly when there are 3 channels (<c>convert2lab</c>).</summary>
    public bool? ConvertToLab { get; set; }
}

/// <summary>
/// A label image: every pixel of an H×W image carries a segment id in 0..<see cref="Count"/>−1. Ids are dense and
/// map one to one to KernelSHAP features (segment k is feature k).
/// </summary>
public sealed class Segmentation
{
    private readonly int[] _labels;

    /// <summary>Creates a segmentation from row-major labels; ids must cover 0..max densely.</summary>
    /// <param name="labels">H·W segment ids, row-major.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    public Segmentation(int[] labels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (labels.Length != (long)height * width)
            throw new ArgumentException($"labels has {labels.Length} entries; expected height·width = {height}·{width} = {height * width}.", nameof(labels));
        int max = -1;
        foreach (int l in labels)
        {
            if (l < 0) throw new ArgumentException($"labels must be ≥ 0; found {l}.", nameof(labels));
            max = Math.Max(max, l);
        }
        var seen = new bool[max + 1];
        foreach (int l in labels) seen[l] = true;
        int missing = Array.IndexOf(seen, false);
        if (missing >= 0)
            throw new ArgumentException($"Segment ids must be dense 0..{max}; id {missing} has no pixel.", nameof(labels));
        _labels = (int[])labels.Clone();
        Height = height;
        Width = width;
        Count = max + 1;
    }

    /// <summary>Image height H.</summary>
    public int Height { get; }

    /// <summary>Image width W.</summary>
    public int Width { get; }

    /// <summary>Number of segments M.</summary>
    public int Count { get; }

    /// <summary>The segment id of pixel (y, x).</summary>
    public int this[int y, int x] => _labels[y * Width + x];

    /// <summary>A copy of the row-major labels (H·W).</summary>
    public int[] ToArray() => (int[])_labels.Clone();

    internal ReadOnlySpan<int> Labels => _labels;

    /// <summary>Number of pixels in each segment.</summary>
    public int[] SegmentSizes()
    {
        var sizes = new int[Count];
        foreach (int l in _labels) sizes[l]++;
        return sizes;
    }

    /// <summary>The labels as a new int64 tensor [H, W] on the CPU; the caller owns it.</summary>
    public Tensor ToTensor() => tensor(_labels.Select(l => (long)l).ToArray(), new long[] { Height, Width }, int64);
}

/// <summary>
/// SLIC superpixels (Achanta et al.), following <c>skimage.segmentation.slic</c> as DIANNA calls it: intensities
/// rescaled to [0, 1], CIELAB for RGB, optional Gaussian pre-smoothing, centroids on skimage's regular grid,
/// k-means in (colour/compactness, position/step) space within 2·step windows, then connectivity enforcement.
/// Deterministic. Unlike skimage, ids start at 0 and are dense, and a small first piece with no labelled neighbour
/// keeps its own id rather than sharing one with the next piece (which could make a segment disconnected).
/// </summary>
public static class Slic
{
    /// <summary>Segments an image tensor [H, W], [H, W, C] (channels last) or [C, H, W] (channels first).</summary>
    /// <param name="image">The image; any real dtype. Not modified.</param>
    /// <param name="channelsLast">For a 3-d image: true when the layout is [H, W, C], false for [C, H, W].</param>
    /// <param name="options">SLIC parameters; null uses skimage's defaults.</param>
    /// <exception cref="ArgumentException">The image is not 2- or 3-d, or has no pixels or no channels (e.g. 0×0); the message gives its shape.</exception>
    public static Segmentation Segment(Tensor image, bool channelsLast = true, SlicOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.IsInvalid) throw new ObjectDisposedException(nameof(image), "The image tensor has been disposed.");
        using var scope = NewDisposeScope();
        Tensor hwc = image.dim() switch
        {
            2 => image.unsqueeze(-1),
            3 => channelsLast ? image : image.permute(1, 2, 0),
            _ => throw new ArgumentException(
                $"image must be [H, W], [H, W, C] or [C, H, W]; it has shape {Shapes.Format(image.shape)}.", nameof(image)),
        };
        if (hwc.shape.Any(d => d == 0))
            throw new ArgumentException(
                $"image has shape {Shapes.Format(image.shape)}: SLIC needs at least one row, one column and one channel.", nameof(image));
        int h = (int)hwc.shape[0], w = (int)hwc.shape[1], c = (int)hwc.shape[2];
        double[] data = hwc.to_type(float64).cpu().contiguous().data<double>().ToArray();
        return Segment(data, h, w, c, options);
    }

    /// <summary>Segments a row-major channels-last image given as H·W·C values.</summary>
    /// <param name="pixels">H·W·C values, row-major, channels last.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="channels">Channels per pixel (1 for grayscale, 3 for RGB).</param>
    /// <param name="options">SLIC parameters; null uses skimage's defaults.</param>
    public static Segmentation Segment(ReadOnlySpan<double> pixels, int height, int width, int channels, SlicOptions? options = null)
    {
        options ??= new SlicOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (pixels.Length != (long)height * width * channels)
            throw new ArgumentException($"pixels has {pixels.Length} values; expected H·W·C = {height}·{width}·{channels}.", nameof(pixels));
        if (options.NSegments < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.NSegments, "SlicOptions.NSegments must be ≥ 1.");
        if (!(options.Compactness > 0) || double.IsInfinity(options.Compactness))
            throw new ArgumentOutOfRangeException(nameof(options), options.Compactness, "SlicOptions.Compactness must be a positive finite number.");
        if (!(options.Sigma >= 0) || double.IsInfinity(options.Sigma))
            throw new ArgumentOutOfRangeException(nameof(options), options.Sigma, "SlicOptions.Sigma must be ≥ 0 and finite.");
        if (options.MaxIterations < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxIterations, "SlicOptions.MaxIterations must be ≥ 1.");

        int n = height * width;
        var img = pixels.ToArray();
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in img)
        {
            if (double.IsNaN(v) || double.IsInfinity(v))
                throw new ArgumentException("The image contains NaN or infinite values.", nameof(pixels));
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        // skimage rescales to [0, 1] so that compactness does not depend on the intensity range.
        for (int i = 0; i < img.Length; i++)
        {
            img[i] -= min;
            if (max != min) img[i] /= max - min;
        }
        bool lab = options.ConvertToLab ?? channels == 3;
        if (lab)
        {
            if (channels != 3)
                throw new ArgumentException($"CIELAB conversion needs 3 channels (RGB); the image has {channels}.", nameof(options));
            RgbToLab(img);
        }
        if (options.Sigma > 0)
            GaussianSmooth(img, height, width, channels, options.Sigma);

        var (centroids, steps) = GridCentroids(height, width, options.NSegments);
        int k = centroids.Count;
        int nf = 2 + channels;
        var seg = new double[k * nf];
        for (int s = 0; s < k; s++)
        {
            seg[s * nf] = centroids[s].Y;
            seg[s * nf + 1] = centroids[s].X;
        }
        double step = Math.Max(steps.Y, steps.X);
        double ratio = 1.0 / options.Compactness;
        for (int i = 0; i < img.Length; i++) img[i] *= ratio;

        var labels = Cluster(img, height, width, channels, seg, k, steps, step, options.MaxIterations);
        if (options.EnforceConnectivity)
        {
            double segmentSize = (double)n / k;
            int minSize = (int)(options.MinSizeFactor * segmentSize);
            int maxSize = Math.Max(1, (int)(options.MaxSizeFactor * segmentSize));
            labels = EnforceConnectivity(labels, height, width, minSize, maxSize);
        }
        else
        {
            labels = Densify(labels);
        }
        return new Segmentation(labels, height, width);
    }

    private static int[] Cluster(double[] img, int h, int w, int c, double[] seg, int k, (int Y, int X) steps, double step,
                                 int maxIterations)
    {
        int nf = 2 + c;
        var nearest = new int[h * w];
        var distance = new double[h * w];
        var count = new long[k];
        var empty = new bool[k];
        double spatialWeight = 1.0 / (step * step);
        Array.Fill(nearest, -1);
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            bool changed = false;
            Array.Fill(distance, double.MaxValue);
            var previous = (int[])nearest.Clone();
            for (int s = 0; s < k; s++)
            {
                if (empty[s]) continue; // skimage divides 0/0 here: a NaN centre that never wins a pixel
                double cy = seg[s * nf], cx = seg[s * nf + 1];
                int yMin = (int)Math.Max(cy - 2 * steps.Y, 0), yMax = (int)Math.Min(cy + 2 * steps.Y + 1, h);
                int xMin = (int)Math.Max(cx - 2 * steps.X, 0), xMax = (int)Math.Min(cx + 2 * steps.X + 1, w);
                for (int y = yMin; y < yMax; y++)
                {
                    double dy = cy - y;
                    dy *= dy;
                    for (int x = xMin; x < xMax; x++)
                    {
                        double dx = cx - x;
                        double d = (dy + dx * dx) * spatialWeight;
                        int p = (y * w + x) * c;
                        for (int ch = 0; ch < c; ch++)
                        {
                            double t = img[p + ch] - seg[s * nf + 2 + ch];
                            d += t * t;
                        }
                        int pix = y * w + x;
                        if (distance[pix] > d)
                        {
                            nearest[pix] = s;
                            distance[pix] = d;
                        }
                    }
                }
            }
            for (int i = 0; i < nearest.Length; i++)
                if (nearest[i] != previous[i]) { changed = true; break; }
            // Unchanged labels give unchanged centres: every later iteration would repeat this one.
            if (!changed) break;

            Array.Clear(seg);
            Array.Clear(count);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int s = nearest[y * w + x];
                    if (s < 0) continue;
                    count[s]++;
                    seg[s * nf] += y;
                    seg[s * nf + 1] += x;
                    int p = (y * w + x) * c;
                    for (int ch = 0; ch < c; ch++) seg[s * nf + 2 + ch] += img[p + ch];
                }
            for (int s = 0; s < k; s++)
            {
                if (count[s] == 0) { empty[s] = true; continue; }
                for (int f = 0; f < nf; f++) seg[s * nf + f] /= count[s];
            }
        }
        return nearest;
    }

    private static int[] EnforceConnectivity(int[] segments, int h, int w, int minSize, int maxSize)
    {
        var connected = new int[segments.Length];
        Array.Fill(connected, -1);
        var queue = new int[Math.Max(maxSize, 1)];
        ReadOnlySpan<int> dy = stackalloc int[] { 0, 0, 1, -1 };
        ReadOnlySpan<int> dx = stackalloc int[] { 1, -1, 0, 0 };
        int next = 0;
        for (int start = 0; start < segments.Length; start++)
        {
            if (connected[start] >= 0) continue;
            int label = segments[start];
            int adjacent = -1;
            connected[start] = next;
            queue[0] = start;
            int size = 1, visited = 0;
            while (visited < size && size < maxSize)
            {
                int p = queue[visited];
                int py = p / w, px = p % w;
                for (int i = 0; i < 4; i++)
                {
                    int yy = py + dy[i], xx = px + dx[i];
                    if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                    int q = yy * w + xx;
                    if (segments[q] == label && connected[q] == -1)
                    {
                        connected[q] = next;
                        queue[size++] = q;
                        if (size >= maxSize) break;
                    }
                    else if (connected[q] >= 0 && connected[q] != next)
                    {
                        adjacent = connected[q];
                    }
                }
                visited++;
            }
            if (size < minSize && adjacent >= 0)
            {
                for (int i = 0; i < size; i++) connected[queue[i]] = adjacent;
            }
            else
            {
                next++;
            }
        }
        return connected;
    }

    private static int[] Densify(int[] labels)
    {
        var map = new Dictionary<int, int>();
        var result = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (!map.TryGetValue(labels[i], out int id))
            {
                id = map.Count;
                map[labels[i]] = id;
            }
            result[i] = id;
        }
        return result;
    }

    /// <summary>skimage's <c>regular_grid</c> on (1, H, W) and the centroids it selects, z-y-x order.</summary>
    internal static (List<(double Y, double X)> Centroids, (int Y, int X) Steps) GridCentroids(int h, int w, int nSegments)
    {
        long[] shape = { 1, h, w };
        int[] starts = new int[3];
        int[] stepSizes = new int[3];
        double space = (double)h * w;
        if (space <= nSegments)
        {
            stepSizes = new[] { 1, 1, 1 };
        }
        else
        {
            var order = Enumerable.Range(0, 3).OrderBy(i => shape[i]).ToArray(); // stable, like argsort here
            var sorted = order.Select(i => (double)shape[i]).ToArray();
            var st = Enumerable.Repeat(Math.Pow(space / nSegments, 1.0 / 3), 3).ToArray();
            if (Enumerable.Range(0, 3).Any(i => sorted[i] < st[i]))
            {
                for (int dim = 0; dim < 3; dim++)
                {
                    st[dim] = sorted[dim];
                    double rest = 1;
                    for (int j = dim + 1; j < 3; j++) rest *= sorted[j];
                    for (int j = dim + 1; j < 3; j++) st[j] = Math.Pow(rest / nSegments, 1.0 / (3 - dim - 1));
                    if (Enumerable.Range(0, 3).All(i => sorted[i] >= st[i])) break;
                }
            }
            for (int i = 0; i < 3; i++)
            {
                starts[order[i]] = (int)Math.Floor(st[i] / 2);
                stepSizes[order[i]] = Math.Max(1, (int)Math.Round(st[i], MidpointRounding.ToEven));
            }
        }
        var centroids = new List<(double, double)>();
        for (int y = starts[1]; y < h; y += stepSizes[1])
            for (int x = starts[2]; x < w; x += stepSizes[2])
                centroids.Add((y, x));
        return (centroids, (stepSizes[1], stepSizes[2]));
    }

    private static void RgbToLab(double[] img)
    {
        // sRGB (D65) → XYZ → CIELAB, as skimage.color.rgb2lab with its default illuminant and observer.
        for (int p = 0; p < img.Length; p += 3)
        {
            double r = Linear(img[p]), g = Linear(img[p + 1]), b = Linear(img[p + 2]);
            double x = (0.412453 * r + 0.357580 * g + 0.180423 * b) / 0.95047;
            double y = 0.212671 * r + 0.715160 * g + 0.072169 * b;
            double z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.08883;
            double fx = F(x), fy = F(y), fz = F(z);
            img[p] = 116 * fy - 16;
            img[p + 1] = 500 * (fx - fy);
            img[p + 2] = 200 * (fy - fz);
        }

        static double Linear(double c) => c > 0.04045 ? Math.Pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
        static double F(double t) => t > 0.008856 ? Math.Cbrt(t) : 7.787 * t + 16.0 / 116;
    }

    private static void GaussianSmooth(double[] img, int h, int w, int c, double sigma)
    {
        // scipy.ndimage.gaussian_filter: separable, truncate 4σ, 'reflect' borders (d c b a | a b c d).
        int radius = (int)(4.0 * sigma + 0.5);
        var kernel = new double[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) sum += kernel[i + radius] = Math.Exp(-0.5 * i * i / (sigma * sigma));
        for (int i = 0; i < kernel.Length; i++) kernel[i] /= sum;
        var tmp = new double[img.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)
                {
                    double acc = 0;
                    for (int i = -radius; i <= radius; i++)
                        acc += kernel[i + radius] * img[(Reflect(y + i, h) * w + x) * c + ch];
                    tmp[(y * w + x) * c + ch] = acc;
                }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)
                {
                    double acc = 0;
                    for (int i = -radius; i <= radius; i++)
                        acc += kernel[i + radius] * tmp[(y * w + Reflect(x + i, w)) * c + ch];
                    img[(y * w + x) * c + ch] = acc;
                }
    }

    private static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        int period = 2 * n;
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - 1 - i;
    }
}
