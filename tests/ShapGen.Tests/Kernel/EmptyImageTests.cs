using System;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Kernel;

public sealed class EmptyImageTests
{
    [Theory]
    [InlineData(0, 0, 1)]
    [InlineData(0, 28, 1)]
    [InlineData(28, 0, 3)]
    public void Image_explanation_of_an_image_without_pixels_names_the_image_and_its_shape(int h, int w, int c)
    {
        using var scope = NewDisposeScope();
        var model = new ExplainableModel(x => x[0].flatten(1).sum(1, keepdim: true), 1);
        var e = Assert.Throws<ArgumentException>(() => KernelImageExplainer.Explain(model, zeros(h, w, c), new[] { 0 },
            new KernelImageOptions { AxisLabels = new[] { "height", "width", "channels" } }));
        Assert.Equal("image", e.ParamName);
        Assert.Contains($"[{h}, {w}, {c}]", e.Message);
        Assert.Contains("no pixels", e.Message);
    }
}
