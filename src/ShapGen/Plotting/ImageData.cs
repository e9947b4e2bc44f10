using System;
using System.Linq;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>A host copy of an image-like tensor in canonical [N, C, H, W] order, as float64.</summary>
internal sealed class ImageData
{
    private ImageData(int n, int c, int h, int w, double[] values)
    {
        N = n; C = c; H = h; W = w; Values = values;
    }

    public int N { get; }
    public int C { get; }
    public int H { get; }
    public int W { get; }
    public double[] Values { get; }

    public double At(int n, int c, int y, int x) => Values[((n * C + c) * H + y) * W + x];

    /// <summary>Copies a tensor (any device, float or integer) to the host once and normalises its layout.</summary>
    public static ImageData From(Tensor tensor, ChannelLayout layout, string argument)
    {
        if (tensor is null) throw new ArgumentNullException(argument);
        if (tensor.IsInvalid) throw new ObjectDisposedException(argument, $"'{argument}' has been disposed.");
        long[] shape = tensor.shape;
        (long n, long c, long h, long w, bool last) = Describe(shape, layout, argument);
        if (n == 0) throw new ArgumentException($"'{argument}' is empty: shape {Shapes.Format(shape)}.", argument);
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().cpu().to_type(float64);
        cpu = last ? cpu.reshape(n, h, w, c).permute(0, 3, 1, 2) : cpu.reshape(n, c, h, w);
        var values = cpu.contiguous().data<double>().ToArray();
        return new ImageData((int)n, (int)c, (int)h, (int)w, values);
    }

    internal static (long N, long C, long H, long W, bool ChannelsLast) Describe(long[] shape, ChannelLayout layout, string argument)
    {
        switch (shape.Length)
        {
            case 2:
                long side = (long)Math.Round(Math.Sqrt(shape[1]));
                if (side * side != shape[1] || side == 0)
                    throw new ArgumentException(
                        $"'{argument}' has shape {Shapes.Format(shape)}: a flat image needs a square pixel count " +
                        $"(e.g. [N, 784] for 28×28); {shape[1]} is not one. Reshape it to [N, C, H, W].", argument);
                return (shape[0], 1, side, side, false);
            case 3:
                return (shape[0], 1, shape[1], shape[2], false);
            case 4:
                bool last = layout switch
                {
                    ChannelLayout.ChannelsFirst => false,
                    ChannelLayout.ChannelsLast => true,
                    _ => AutoChannelsLast(shape, argument),
                };
                return last ? (shape[0], shape[3], shape[1], shape[2], true) : (shape[0], shape[1], shape[2], shape[3], false);
            default:
                throw new ArgumentException(
                    $"'{argument}' has shape {Shapes.Format(shape)}; expected [N, C, H, W], [N, H, W, C], [N, H, W] or [N, s·s].",
                    argument);
        }
    }

    private static bool AutoChannelsLast(long[] shape, string argument)
    {
        bool firstIsChannel = shape[1] is 1 or 3;
        bool lastIsChannel = shape[3] is 1 or 3;
        if (firstIsChannel && lastIsChannel)
            throw new ArgumentException(
                $"'{argument}' has shape {Shapes.Format(shape)}: both dimension 1 and dimension 3 could be channels. " +
                "Set ImagePlotOptions.Layout to ChannelsFirst or ChannelsLast.", argument);
        return lastIsChannel;
    }

    /// <summary>The channel sum at each pixel, [N][H·W] flattened, as shap sums multichannel attributions.</summary>
    public double[] ChannelSum()
    {
        var sum = new double[N * H * W];
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int p = 0; p < H * W; p++)
                    sum[n * H * W + p] += Values[(n * C + c) * H * W + p];
        return sum;
    }

    public bool SameShape(ImageData other) => N == other.N && C == other.C && H == other.H && W == other.W;

    public string ShapeText => $"[N={N}, C={C}, H={H}, W={W}]";

    public static double[] Flatten(ImageData[] maps) => maps.SelectMany(m => m.ChannelSum()).ToArray();
}
