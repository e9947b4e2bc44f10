using System.Collections.Generic;
using System.Linq;
using ShapGen.Samples.Vgg;
using Xunit;

namespace ShapGen.Tests.IO;

/// <summary>The VGG16 sample takes torchvision's vgg16-397923af.pth as is: its state_dict names and shapes are torchvision's.</summary>
public sealed class Vgg16WeightNamesTests
{
    /// <summary>torchvision.models.vgg16().state_dict(): conv layers at these indexes of features, linears at 0, 3, 6 of classifier.</summary>
    private static Dictionary<string, long[]> Torchvision()
    {
        var expected = new Dictionary<string, long[]>();
        var convs = new (int Index, long In, long Out)[]
        {
            (0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256), (12, 256, 256), (14, 256, 256),
            (17, 256, 512), (19, 512, 512), (21, 512, 512), (24, 512, 512), (26, 512, 512), (28, 512, 512),
        };
        foreach (var (i, cin, cout) in convs)
        {
            expected[$"features.{i}.weight"] = new[] { cout, cin, 3L, 3L };
            expected[$"features.{i}.bias"] = new[] { cout };
        }
        foreach (var (i, fin, fout) in new (int, long, long)[] { (0, 25088, 4096), (3, 4096, 4096), (6, 4096, 1000) })
        {
            expected[$"classifier.{i}.weight"] = new[] { fout, fin };
            expected[$"classifier.{i}.bias"] = new[] { fout };
        }
        return expected;
    }

    [Fact]
    public void The_sample_model_has_torchvisions_names_and_shapes()
    {
        using var model = new Vgg16();
        var state = model.state_dict();
        var expected = Torchvision();
        Assert.Equal(expected.Keys.OrderBy(k => k), state.Keys.OrderBy(k => k));
        foreach (var (name, shape) in expected)
            Assert.Equal(shape, state[name].shape);
    }
}
