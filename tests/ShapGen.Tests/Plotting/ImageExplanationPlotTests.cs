using System;
using System.IO;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Plotting;

public sealed class ImageExplanationPlotTests
{
    [Fact]
    public void Image_explanation_overload_draws_what_the_explicit_panels_draw_in_either_layout()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        var hwc = zeros(12, 12, 3);
        hwc[..6, .., 0] = tensor(1f);
        hwc[6.., .., 2] = tensor(1f);
        var net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 12 * 12, 2));
        net.eval();
        using var explanation = KernelImageExplainer.Explain(ExplainableModel.Create(net), hwc, new[] { 0, 1 },
            new KernelImageOptions { Kernel = { NSamples = 200, Seed = 1 }, Slic = { NSegments = 4 }, Background = 0, ModelLayout = ImageLayout.ChannelsFirst });

        string viaOverload = Path.GetTempFileName(), viaChw = Path.GetTempFileName(), viaPanels = Path.GetTempFileName();
        try
        {
            ImagePlot.Save(viaOverload, explanation, hwc);
            ImagePlot.Save(viaChw, explanation, hwc.permute(2, 0, 1));
            var panels = Enumerable.Range(0, 2).Select(l => explanation.Heatmaps[l].unsqueeze(0).unsqueeze(0)).ToArray();
            ImagePlot.Save(viaPanels, panels, hwc.permute(2, 0, 1).unsqueeze(0),
                           new ImagePlotOptions { ColumnLabels = new[] { "output 0", "output 1" } });
            byte[] expected = File.ReadAllBytes(viaPanels);
            Assert.Equal(expected, File.ReadAllBytes(viaOverload));
            Assert.Equal(expected, File.ReadAllBytes(viaChw));
        }
        finally
        {
            File.Delete(viaOverload);
            File.Delete(viaChw);
            File.Delete(viaPanels);
        }
    }
}
