using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Samples;

/// <summary>
/// Draws 28×28 grayscale images in-process so that samples run on a fresh clone with no data files: handwritten-like
/// digits (strokes with random thickness, slant, rotation, scale, shift and noise) and clothing-like silhouettes in
/// Fashion-MNIST's ten classes. Values are in [0, 1].
/// </summary>
public static class SyntheticImages
{
    /// <summary>Fashion-MNIST's class names.</summary>
    public static readonly string[] ClothingClasses =
        { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

    private const int Size = 28;

    private static readonly (double X, double Y)[][][] DigitStrokes =
    {
        new[] { Ellipse(0.5, 0.5, 0.26, 0.37, 14) },
        new[] { P(0.38, 0.26, 0.52, 0.12, 0.52, 0.88) },
        new[] { P(0.25, 0.3, 0.35, 0.15, 0.6, 0.12, 0.75, 0.25, 0.72, 0.42, 0.25, 0.88, 0.78, 0.88) },
        new[] { P(0.25, 0.15, 0.7, 0.15, 0.45, 0.45, 0.72, 0.6, 0.7, 0.8, 0.5, 0.9, 0.25, 0.82) },
        new[] { P(0.65, 0.88, 0.65, 0.12, 0.22, 0.65, 0.8, 0.65) },
        new[] { P(0.75, 0.12, 0.3, 0.12, 0.27, 0.45, 0.55, 0.4, 0.74, 0.58, 0.7, 0.8, 0.5, 0.9, 0.25, 0.83) },
        new[] { P(0.7, 0.12, 0.4, 0.3, 0.28, 0.6, 0.35, 0.85, 0.6, 0.88, 0.72, 0.7, 0.6, 0.52, 0.32, 0.58) },
        new[] { P(0.22, 0.12, 0.78, 0.12, 0.42, 0.88) },
        new[] { Ellipse(0.5, 0.3, 0.2, 0.17, 12), Ellipse(0.5, 0.68, 0.25, 0.2, 12) },
        new[] { Ellipse(0.48, 0.33, 0.22, 0.2, 12), P(0.7, 0.36, 0.6, 0.88) },
    };

    private static readonly (double X, double Y)[][][] ClothingShapes =
    {
        new[] { P(0.3, 0.15, 0.42, 0.12, 0.58, 0.12, 0.7, 0.15, 0.9, 0.3, 0.82, 0.42, 0.72, 0.36, 0.72, 0.9, 0.28, 0.9, 0.28, 0.36, 0.18, 0.42, 0.1, 0.3) },
        new[] { P(0.32, 0.08, 0.68, 0.08, 0.7, 0.94, 0.56, 0.94, 0.5, 0.3, 0.44, 0.94, 0.3, 0.94) },
        new[] { P(0.3, 0.14, 0.7, 0.14, 0.86, 0.3, 0.92, 0.86, 0.8, 0.88, 0.74, 0.4, 0.72, 0.88, 0.28, 0.88, 0.26, 0.4, 0.2, 0.88, 0.08, 0.86, 0.14, 0.3) },
        new[] { P(0.4, 0.08, 0.6, 0.08, 0.62, 0.35, 0.8, 0.92, 0.2, 0.92, 0.38, 0.35) },
        new[] { P(0.3, 0.1, 0.7, 0.1, 0.86, 0.26, 0.92, 0.92, 0.8, 0.92, 0.74, 0.4, 0.74, 0.95, 0.26, 0.95, 0.26, 0.4, 0.2, 0.92, 0.08, 0.92, 0.14, 0.26) },
        new[] { P(0.06, 0.7, 0.94, 0.66, 0.94, 0.74, 0.06, 0.78), P(0.2, 0.7, 0.35, 0.45, 0.4, 0.68), P(0.5, 0.68, 0.62, 0.42, 0.7, 0.67) },
        new[] { P(0.32, 0.12, 0.68, 0.12, 0.86, 0.28, 0.9, 0.8, 0.8, 0.8, 0.72, 0.4, 0.72, 0.92, 0.28, 0.92, 0.28, 0.4, 0.2, 0.8, 0.1, 0.8, 0.14, 0.28) },
        new[] { P(0.06, 0.5, 0.4, 0.46, 0.62, 0.58, 0.94, 0.64, 0.94, 0.78, 0.06, 0.78) },
        new[] { P(0.14, 0.36, 0.86, 0.36, 0.9, 0.88, 0.1, 0.88), P(0.3, 0.36, 0.34, 0.14, 0.66, 0.14, 0.7, 0.36) },
        new[] { P(0.3, 0.1, 0.62, 0.1, 0.64, 0.56, 0.94, 0.7, 0.94, 0.86, 0.28, 0.86) },
    };

    // Clothing shapes drawn as outlines (straps, handles) rather than filled.
    private static readonly HashSet<(int Class, int Part)> Outlined = new() { (5, 1), (5, 2), (8, 1) };

    /// <summary>Draws <paramref name="count"/> digits with balanced labels; images [count, 1, 28, 28], labels [count] int64.</summary>
    public static (Tensor Images, Tensor Labels) Digits(int count, int seed) =>
        Draw(count, seed, (rng, label, pixels) =>
        {
            double thickness = 1.4 + rng.NextDouble() * 1.6;
            var transform = RandomTransform(rng, slant: 0.25, rotation: 0.25);
            foreach (var stroke in DigitStrokes[label])
                StrokePolyline(pixels, Apply(stroke, transform), thickness, 0.85 + 0.15 * rng.NextDouble());
        });

    /// <summary>Draws <paramref name="count"/> clothing silhouettes with balanced labels (Fashion-MNIST classes).</summary>
    public static (Tensor Images, Tensor Labels) Clothing(int count, int seed) =>
        Draw(count, seed, (rng, label, pixels) =>
        {
            var transform = RandomTransform(rng, slant: 0.08, rotation: 0.12);
            double shade = 0.45 + 0.5 * rng.NextDouble();
            var parts = ClothingShapes[label];
            for (int p = 0; p < parts.Length; p++)
            {
                var polygon = Apply(parts[p], transform);
                if (Outlined.Contains((label, p))) StrokePolyline(pixels, polygon, 1.6, shade);
                else FillPolygon(pixels, polygon, shade, rng);
            }
            if (label == 4) StrokePolyline(pixels, Apply(P(0.5, 0.14, 0.5, 0.94), transform), 1.0, 0.1);
            if (label == 6) StrokePolyline(pixels, Apply(P(0.42, 0.12, 0.5, 0.24, 0.58, 0.12), transform), 1.2, 1.0);
        });


    private static (Tensor Images, Tensor Labels) Draw(int count, int seed, Action<Random, int, float[]> paint)
    {
        var rng = new Random(seed);
        var data = new float[count * Size * Size];
        var labels = new long[count];
        var pixels = new float[Size * Size];
        for (int i = 0; i < count; i++)
        {
            int label = i % 10;
            Array.Clear(pixels);
            paint(rng, label, pixels);
            for (int p = 0; p < pixels.Length; p++)
                data[i * Size * Size + p] = Math.Clamp(pixels[p] + (float)(0.04 * Gaussian(rng)), 0f, 1f);
            labels[i] = label;
        }
        // Shuffle so that batches mix classes.
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        rng.Shuffle(order);
        var images = tensor(data).reshape(count, 1, Size, Size).index_select(0, tensor(order));
        return (images, tensor(labels).index_select(0, tensor(order)));
    }

    private static (double A, double B, double C, double D, double Tx, double Ty) RandomTransform(Random rng, double slant, double rotation)
    {
        double angle = (rng.NextDouble() * 2 - 1) * rotation;
        double scale = 0.8 + 0.25 * rng.NextDouble();
        double shear = (rng.NextDouble() * 2 - 1) * slant;
        double cos = Math.Cos(angle) * scale, sin = Math.Sin(angle) * scale;
        return (cos, -sin + shear * cos, sin, cos + shear * sin, (rng.NextDouble() * 2 - 1) * 0.06, (rng.NextDouble() * 2 - 1) * 0.06);
    }

    private static (double X, double Y)[] Apply((double X, double Y)[] points, (double A, double B, double C, double D, double Tx, double Ty) t)
    {
        var result = new (double X, double Y)[points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            double x = points[i].X - 0.5, y = points[i].Y - 0.5;
            result[i] = (((t.A * x + t.B * y) + 0.5 + t.Tx) * (Size - 1), ((t.C * x + t.D * y) + 0.5 + t.Ty) * (Size - 1));
        }
        return result;
    }

    private static void StrokePolyline(float[] pixels, (double X, double Y)[] points, double thickness, double intensity)
    {
        for (int py = 0; py < Size; py++)
            for (int px = 0; px < Size; px++)
            {
                double best = double.MaxValue;
                for (int s = 0; s + 1 < points.Length; s++)
                    best = Math.Min(best, SegmentDistance(px, py, points[s], points[s + 1]));
                double value = intensity * Math.Clamp(thickness / 2 + 0.5 - best, 0, 1);
                int i = py * Size + px;
                pixels[i] = Math.Max(pixels[i], (float)value);
            }
    }

    private static void FillPolygon(float[] pixels, (double X, double Y)[] polygon, double shade, Random rng)
    {
        double texture = rng.NextDouble() * 0.15;
        for (int py = 0; py < Size; py++)
            for (int px = 0; px < Size; px++)
            {
                if (!Inside(px, py, polygon)) continue;
                int i = py * Size + px;
                double value = shade * (1 - texture * ((px + py) % 3 == 0 ? 1 : 0));
                pixels[i] = Math.Max(pixels[i], (float)value);
            }
    }

    private static bool Inside(double x, double y, (double X, double Y)[] polygon)
    {
        bool inside = false;
        for (int i = 0, j = polygon.Length - 1; i < polygon.Length; j = i++)
            if ((polygon[i].Y > y) != (polygon[j].Y > y) &&
                x < (polygon[j].X - polygon[i].X) * (y - polygon[i].Y) / (polygon[j].Y - polygon[i].Y) + polygon[i].X)
                inside = !inside;
        return inside;
    }

    private static double SegmentDistance(double x, double y, (double X, double Y) a, (double X, double Y) b)
    {
        double dx = b.X - a.X, dy = b.Y - a.Y;
        double t = Math.Clamp(((x - a.X) * dx + (y - a.Y) * dy) / Math.Max(dx * dx + dy * dy, 1e-12), 0, 1);
        double ex = a.X + t * dx - x, ey = a.Y + t * dy - y;
        return Math.Sqrt(ex * ex + ey * ey);
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static (double X, double Y)[] P(params double[] xy)
    {
        var points = new (double X, double Y)[xy.Length / 2];
        for (int i = 0; i < points.Length; i++) points[i] = (xy[2 * i], xy[2 * i + 1]);
        return points;
    }

    private static (double X, double Y)[] Ellipse(double cx, double cy, double rx, double ry, int n)
    {
        var points = new (double X, double Y)[n + 1];
        for (int i = 0; i <= n; i++)
            points[i] = (cx + rx * Math.Cos(2 * Math.PI * i / n), cy + ry * Math.Sin(2 * Math.PI * i / n));
        return points;
    }
}
