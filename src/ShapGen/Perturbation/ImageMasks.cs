using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// Where the pixels of a one-input image model's samples are: [H, W], [C, H, W] (channels first) or [H, W, C]
/// (channels last); spreads pixel masks over the channels and maps elements back to pixels.
/// </summary>
internal sealed record ImageGeometry(long Height, long Width, long Channels, ImageLayout Layout, bool HasChannels)
{
    /// <summary>The geometry of a one-input model's samples; a clear error for more inputs or another rank.</summary>
    public static ImageGeometry Of(long[][] sampleShapes, ImageLayout layout, string engine)
    {
        if (sampleShapes.Length != 1)
            throw new ArgumentException($"{engine} explains one-input image models; this model takes {sampleShapes.Length} inputs.", "inputs");
        var shape = sampleShapes[0];
        return shape.Length switch
        {
            2 => new ImageGeometry(shape[0], shape[1], 1, layout, false),
            3 when layout == ImageLayout.ChannelsFirst => new ImageGeometry(shape[1], shape[2], shape[0], layout, true),
            3 => new ImageGeometry(shape[0], shape[1], shape[2], layout, true),
            _ => throw new ArgumentException(
                $"{engine} needs images: samples [H, W], [C, H, W] or [H, W, C]; the input's samples are {Shapes.Format(shape)}.", "inputs"),
        } is var g && g.Height > 0 && g.Width > 0 && g.Channels > 0
            ? g
            : throw new ArgumentException($"{engine}: the input's samples {Shapes.Format(shape)} have no pixels.", "inputs");
    }

    /// <summary>Pixels per sample, H·W.</summary>
    public long Pixels => Height * Width;

    /// <summary>Pixel masks [count, H, W] spread over the channels: [count, D].</summary>
    public Tensor Spread(Tensor masks)
    {
        long count = masks.shape[0];
        if (!HasChannels) return masks.reshape(count, -1);
        var spread = Layout == ImageLayout.ChannelsFirst
            ? masks.unsqueeze(1).expand(count, Channels, Height, Width)
            : masks.unsqueeze(-1).expand(count, Height, Width, Channels);
        return spread.reshape(count, -1);
    }

    /// <summary>For each element of a sample, the index of its pixel (y·W + x), [D] int64.</summary>
    public Tensor PixelOfElement(Device device)
    {
        var element = arange(Pixels * Channels, int64, device);
        if (!HasChannels) return element;
        return Layout == ImageLayout.ChannelsFirst ? element.remainder(Pixels) : element.div(Channels, rounding_mode: RoundingMode.floor);
    }
}

/// <summary>
/// RISE's masks (DIANNA's <c>generate_masks_for_images</c>): a FeatureRes² grid of cells kept with probability p,
/// upsampled bilinearly (skimage's <c>resize</c>, order 1, mode "reflect": pixel centres, mirrored at the edges) to
/// (FeatureRes + 1)·⌈size/FeatureRes⌉ and cropped at a random offset below one cell. Every draw is keyed by (seed,
/// purpose, global sample index, mask index), so a mask is the same whichever batch computes it.
/// </summary>
internal sealed class RiseMasks
{
    private readonly long _height, _width;
    private readonly int _res;
    private readonly long _cellHeight, _cellWidth;
    private readonly SampleDraws _draws;
    private readonly Tensor _rows, _columns; // interpolation matrices [(res + 1)·cell, res]
    private readonly Device _device;

    public RiseMasks(long height, long width, int featureRes, SampleDraws draws, Device device)
    {
        _height = height;
        _width = width;
        _res = featureRes;
        _cellHeight = (height + featureRes - 1) / featureRes;
        _cellWidth = (width + featureRes - 1) / featureRes;
        _draws = draws;
        _device = device;
        _rows = Interpolation(featureRes, (featureRes + 1) * _cellHeight, device);
        _columns = Interpolation(featureRes, (featureRes + 1) * _cellWidth, device);
    }

    /// <summary>Masks [count, H, W] float64 on the device for (sample, mask index) pairs; keep probability per row.</summary>
    public Tensor Make(DrawPurpose purpose, long[] samples, long[] indexes, Func<long, double> keepOfRow)
    {
        long count = samples.Length, cells = (long)_res * _res, perMask = cells + 2;
        var grid = new double[count * cells];
        var rowIndex = new long[count * _height];
        var columnIndex = new long[count * _width];
        for (long r = 0; r < count; r++)
        {
            double keep = keepOfRow(r);
            long first = indexes[r] * perMask;
            for (long g = 0; g < cells; g++)
                grid[r * cells + g] = _draws.Uniform(purpose, samples[r], first + g) < keep ? 1.0 : 0.0;
            long dy = _draws.Index(purpose, samples[r], first + cells, _cellHeight);
            long dx = _draws.Index(purpose, samples[r], first + cells + 1, _cellWidth);
            for (long y = 0; y < _height; y++) rowIndex[r * _height + y] = dy + y;
            for (long x = 0; x < _width; x++) columnIndex[r * _width + x] = dx + x;
        }
        var g0 = tensor(grid, new[] { count, (long)_res, _res }, float64).to(_device);
        var rows = _rows.index_select(0, tensor(rowIndex, int64).to(_device)).view(count, _height, _res);
        var columns = _columns.index_select(0, tensor(columnIndex, int64).to(_device)).view(count, _width, _res);
        return rows.bmm(g0).bmm(columns.transpose(1, 2));
    }

    /// <summary>
    /// [size, res]: linear interpolation from res points to size, at pixel centres (source coordinate (o + ½)·res/size − ½),
    /// mirrored about the edge pixels' centres as scipy's "mirror" mode (skimage's "reflect").
    /// </summary>
    internal static Tensor Interpolation(int res, long size, Device device)
    {
        var weights = new double[size * res];
        for (long o = 0; o < size; o++)
        {
            double c = (o + 0.5) * res / size - 0.5;
            if (res == 1) c = 0;
            else
            {
                double period = 2.0 * (res - 1);
                c = Math.Abs(c) % period;
                if (c > res - 1) c = period - c;
            }
            long i0 = (long)Math.Floor(c);
            double t = c - i0;
            weights[o * res + i0] += 1 - t;
            if (t > 0) weights[o * res + Math.Min(i0 + 1, res - 1)] += t;
        }
        return tensor(weights, new[] { size, (long)res }, float64).to(device);
    }
}
