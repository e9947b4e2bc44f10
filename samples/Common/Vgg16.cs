using System.Collections.Generic;
using ShapGen;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Samples.Vgg;

/// <summary>
/// VGG16 as torchvision defines it (parameter names match a PyTorch state_dict: features.0.weight, …,
/// classifier.6.bias), with ReLUs not in place. Explained at the input of features[7] (shap's seed).
/// </summary>
[Explainable]
// The layer list is built in a loop over the configuration; the generator follows it and checks this Shape against it.
[ExplainLayer("features.7", Name = "Features7Explainer", Shape = new[] { 128, 112, 112 })]
public sealed partial class Vgg16 : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly nn.Module<Tensor, Tensor> avgpool = nn.AdaptiveAvgPool2d(new long[] { 7, 7 });
    private readonly nn.Module<Tensor, Tensor> classifier;

    public Vgg16() : base(nameof(Vgg16))
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        int channels = 3, index = 0;
        foreach (int width in new[] { 64, 64, -1, 128, 128, -1, 256, 256, 256, -1, 512, 512, 512, -1, 512, 512, 512, -1 })
        {
            if (width < 0)
            {
                layers.Add(((index++).ToString(System.Globalization.CultureInfo.InvariantCulture), nn.MaxPool2d(2, 2)));
                continue;
            }
            layers.Add(((index++).ToString(System.Globalization.CultureInfo.InvariantCulture), nn.Conv2d(channels, width, 3, padding: 1)));
            layers.Add(((index++).ToString(System.Globalization.CultureInfo.InvariantCulture), nn.ReLU()));
            channels = width;
        }
        features = nn.Sequential(layers);
        classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, 1000));
        RegisterComponents();
    }

    [return: Shape(1000)]
    public override Tensor forward([Shape(3, 224, 224)] Tensor image) =>
        classifier.call(avgpool.call(features.call(image)).flatten(1));
}
