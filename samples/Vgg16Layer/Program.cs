// shap's "Explain an Intermediate Layer of VGG16" in C#: attributions to the input of features[7], for each image's
// top-2 classes (ranked outputs), then again with local smoothing.
//   dotnet run --project samples/Vgg16Layer -c Release [-- --weights vgg16-397923af.pth] [--classes imagenet_class_index.json]
// --weights: torchvision's VGG16 weights as downloaded (vgg16-397923af.pth, a PyTorch state dict), or any VGG16
// state_dict saved with torch.save or safetensors; the format is read from the file's content.
// --classes: ImageNet's class-index JSON ({"0": ["n01440764", "tench"], …}) for titles; else class numbers.
// Without weights the network is random (the pictures then show the method, not ImageNet knowledge).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using ShapGen;
using ShapGen.Samples;
using ShapGen.Samples.Vgg;
using TorchSharp;
using static TorchSharp.torch;

var options = SampleArgs.Parse(args);
var clock = Stopwatch.StartNew();
var device = Devices.Best;
torch.manual_seed(0);
var model = new Vgg16();
string? weights = options.String("weights");
if (weights is not null)
{
    model.LoadWeights(weights);   // names as torchvision's: features.N.weight/bias, classifier.N.weight/bias
    Console.WriteLine($"Loaded weights from {weights}");
}
else
{
    Console.WriteLine("No --weights given: VGG16 has random weights (pass torchvision's vgg16-397923af.pth).");
}
model.to(device).eval();

string[] classNames = Enumerable.Range(0, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
if (options.String("classes") is string classFile)
{
    using var json = JsonDocument.Parse(File.ReadAllText(classFile));
    foreach (var entry in json.RootElement.EnumerateObject())
        classNames[int.Parse(entry.Name, System.Globalization.CultureInfo.InvariantCulture)] = entry.Value[1].GetString() ?? entry.Name;
}

// 50 background images and 2 to explain: colour scenes drawn in-process, ImageNet-normalised.
int size = 224, backgroundCount = options.Quick ? 4 : 50;
var scenes = Scenes(backgroundCount + 2, size, seed: 5).to(device);
var background = new Vgg16.Batch(scenes[..backgroundCount]);
var toExplain = scenes[^2..];
int nsamples = options.Int("nsamples", options.Quick ? 2 : device.type == DeviceType.CUDA ? 200 : 8);
if (device.type != DeviceType.CUDA && options.String("nsamples") is null)
    Console.WriteLine($"CPU only: nsamples {nsamples} instead of shap's 200 to keep the sample short (--nsamples 200 for the full run).");

using var explainer = new Vgg16.Features7Explainer(model, background);
Console.WriteLine($"Explaining the input of {Vgg16.Features7Explainer.LayerPath}, per-sample shape " +
                  $"{Shapes.Format(Vgg16.Features7Explainer.LayerShape!)}");
foreach (var (name, smoothing) in new[] { ("ranked", 0.0), ("smoothed", options.Quick ? 0.5 : 100.0) })
{
    using var result = SampleConsole.Progress($"{name}: expected gradients at features.7", progress =>
        explainer.Explain(new Vgg16.Batch(toExplain), new GradientExplainOptions
        {
            NSamples = nsamples, RankedOutputs = 2, LocalSmoothing = smoothing, Seed = 0, Progress = progress,
        }));
    // For each image, the classes explained at rank 0 and 1.
    var titles = result.RankedIndexes!.Select(classes => classes.Select(c => classNames[c]).ToArray()).ToList();
    SampleConsole.Table($"{name}: explained classes", new[] { "image", "rank 0", "rank 1" },
        titles.Select((t, i) => (IReadOnlyList<string>)new[] { i.ToString(System.Globalization.CultureInfo.InvariantCulture), t[0], t[1] }));
    string png = options.Output($"vgg16-features7-{name}.png");
    ImagePlot.Save(png, new[] { result.Rank(0), result.Rank(1) }, Unnormalise(toExplain), new ImagePlotOptions
    {
        PanelLabels = titles,
    });
    Console.WriteLine($"  attributions {Shapes.Format(result.Rank(0).shape)}; picture: {png}");
}
Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F0} s");

static Tensor Scenes(int count, int size, int seed)
{
    var rng = new Random(seed);
    var data = new float[count * 3 * size * size];
    for (int n = 0; n < count; n++)
    {
        var sky = new[] { rng.NextSingle(), rng.NextSingle(), rng.NextSingle() };
        var blob = new[] { rng.NextSingle(), rng.NextSingle(), rng.NextSingle() };
        double cx = size * (0.3 + 0.4 * rng.NextDouble()), cy = size * (0.3 + 0.4 * rng.NextDouble()), r = size * (0.1 + 0.2 * rng.NextDouble());
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                bool inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r;
                for (int c = 0; c < 3; c++)
                    data[((n * 3 + c) * size + y) * size + x] = inside ? blob[c] : sky[c] * (0.6f + 0.4f * y / size);
            }
    }
    var mean = tensor(new[] { 0.485f, 0.456f, 0.406f }).reshape(1, 3, 1, 1);
    var std = tensor(new[] { 0.229f, 0.224f, 0.225f }).reshape(1, 3, 1, 1);
    return (tensor(data).reshape(count, 3, size, size) - mean) / std;
}

static Tensor Unnormalise(Tensor images)
{
    var mean = tensor(new[] { 0.485f, 0.456f, 0.406f }, device: images.device).reshape(1, 3, 1, 1);
    var std = tensor(new[] { 0.229f, 0.224f, 0.225f }, device: images.device).reshape(1, 3, 1, 1);
    return (images * std + mean).clamp(0, 1);
}
