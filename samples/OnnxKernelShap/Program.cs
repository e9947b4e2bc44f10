// DIANNA's KernelSHAP tutorial in C#, typed: explain a binary MNIST classifier ("digit 0" / "digit 1") on one image with
// SLIC superpixels, nsamples 1000, background 0, 200 segments, and plot one heatmap per class; then KernelSHAP, RISE
// and LIME side by side for the predicted class, as DIANNA's tutorials compare them.
//   dotnet run --project samples/OnnxKernelShap -c Release [-- --model other.onnx] [--data DIR]
// The model (models/binary-mnist-model.onnx, DIANNA's pretrained one) is part of the sample: at build time ShapGen
// reads its inputs and outputs, and BinaryMnist below gets a typed Batch (a wrong image size is a compile error),
// labels by name and a typed ExplainImage. With --data DIR holding binary-mnist.npz it explains a real test image;
// without, a synthetic '0'. --model (or --data DIR with binary-mnist-model.onnx) loads another file, which must have
// the same signature: BinaryMnist.Load checks it and says what differs.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ShapGen;
using ShapGen.Samples;
using TorchSharp;
using static TorchSharp.torch;

var options = SampleArgs.Parse(args);
var clock = Stopwatch.StartNew();
int nsamples = options.Quick ? 200 : options.Int("nsamples", 1000);
string onnxPath = options.String("model") ?? options.DataFile("binary-mnist-model.onnx")
                  ?? Path.Combine(AppContext.BaseDirectory, "models", "binary-mnist-model.onnx");
string? npzPath = options.DataFile("binary-mnist.npz");

Tensor image;          // [1, 1, 28, 28]: one image in the model's own layout, RAW pixel values 0..255
if (npzPath is not null)
{
    var test = Npz.Load(npzPath, "X_test");
    int index = options.Int("index", 0);
    image = test[index].to(float32).reshape(1, 1, 28, 28);
    Console.WriteLine($"Image {index} of X_test in {npzPath}");
}
else
{
    var (digits, labels) = SyntheticImages.Digits(20, seed: 3);
    image = digits[labels.eq(0).nonzero()[0, 0]].mul(255).reshape(1, 1, 28, 28);
    Console.WriteLine("A synthetic '0' (pass --data DIR with binary-mnist.npz for a real test image)");
}

Console.WriteLine($"Explaining with ONNX model {onnxPath}");
using var model = BinaryMnist.Load(onnxPath);
var classes = new[] { BinaryMnist.Label.digit_0, BinaryMnist.Label.digit_1 };
using var explanation = SampleConsole.Progress("KernelSHAP", progress =>
    BinaryMnist.ExplainImage(model, new BinaryMnist.Batch(image), classes, new KernelImageOptions
    {
        Kernel = { NSamples = nsamples, Seed = 0, Progress = progress },
        Slic = { NSegments = 200, Sigma = 0 },
        Background = 0,
    }));

string[] names = classes.Select(c => c.ToString().Replace('_', ' ')).ToArray();   // "digit 0", "digit 1"
Console.WriteLine($"{explanation.SegmentCount} superpixels; {explanation.Features.EvaluatedCoalitions[0]} coalitions evaluated");
SampleConsole.Table("model output = base + sum of Shapley values", new[] { "class", "model output", "base", "sum of Shapley values" },
    Enumerable.Range(0, explanation.Labels.Count).Select(l => (IReadOnlyList<string>)new[]
    {
        names[l], $"{explanation.ModelOutputs[l]:F4}", $"{explanation.BaseValues[l]:F4}", $"{explanation.ShapleyValues(l).Sum():F4}",
    }));
// One panel per class: the heatmap over the image, one shared colour scale and bar.
string png = options.Output("kernelshap-binary-mnist.png");
ImagePlot.Save(png, explanation, image.reshape(28, 28, 1), new ImagePlotOptions { ColumnLabels = names });
Console.WriteLine($"Picture: {png}");

// The same image through the three methods DIANNA offers, for the class the model predicts, on probabilities (the
// model ends in LogSoftmax; RISE averages masked scores, which is meant for probabilities). Each heatmap is scaled by
// its own largest |value|: the methods' units differ (Shapley values, RISE's mean masked score, LIME's ridge
// coefficients), so only the patterns compare.
using var probabilities = BinaryMnist.Load(onnxPath, new OnnxModelOptions { OutputTransform = OnnxOutputTransforms.Exp });
BinaryMnist.Label predicted;
using (var scores = probabilities.Run(image)) predicted = classes[scores.argmax(1).item<long>()];
var target = new[] { predicted };
using var kernel = BinaryMnist.ExplainImage(probabilities, new BinaryMnist.Batch(image), target, new KernelImageOptions
{
    Kernel = { NSamples = nsamples, Seed = 0 }, Slic = { NSegments = 200, Sigma = 0 }, Background = 0,
});
using var rise = BinaryMnist.ExplainImageRise(probabilities, new BinaryMnist.Batch(image), target,
    new RiseOptions { NMasks = options.Quick ? 200 : 1000, Seed = 0 });
using var lime = BinaryMnist.ExplainImageLime(probabilities, new BinaryMnist.Batch(image), target,
    new LimeOptions { NumSamples = options.Quick ? 200 : 1000, Seed = 0 }, new SlicOptions { NSegments = 200, Sigma = 0 }, hideColor: 0);
var panels = new[] { kernel, rise, lime }.Select(e => e.Heatmaps[0].div(e.Heatmaps[0].abs().max().clamp_min(1e-12)).reshape(1, 1, 28, 28)).ToArray();
string methods = options.Output("methods-binary-mnist.png");
ImagePlot.Save(methods, panels, image, new ImagePlotOptions
{
    ColumnLabels = new[] { "KernelSHAP", "RISE", "LIME" },
    RowLabels = new[] { "P(" + predicted.ToString().Replace('_', ' ') + ")" },
    ColorBarLabel = "attribution / largest |attribution| of the method",
});
Console.WriteLine($"Methods compared for '{predicted.ToString().Replace('_', ' ')}': {methods} ({clock.Elapsed.TotalSeconds:F1} s in all)");

/// <summary>DIANNA's binary MNIST model, typed from its ONNX file at build time.</summary>
[ExplainableOnnx("models/binary-mnist-model.onnx", Labels = new[] { "digit 0", "digit 1" })]
internal sealed partial class BinaryMnist
{
}
