// DIANNA's KernelSHAP tutorial in C#, typed: explain a binary MNIST classifier ("digit 0" / "digit 1") on one image with
// SLIC superpixels, nsamples 1000, background 0, 200 segments, and plot one heatmap per class.
//   dotnet run --project samples/OnnxKernelShap -c Release [-- --model other.onnx] [--data DIR]
// The model (models/binary-mnist-model.onnx, DIANNA's pretrained one) is part of the sample: at build time ShapGen
// reads its inputs and outputs, and BinaryMnist below gets a typed Batch (a wrong image size is a compile error),
// labels by name and a typed ExplainImage. With --data DIR holding binary-mnist.npz it explains a real test image;
// without, a synthetic '0'. --model (or --data DIR with binary-mnist-model.onnx) loads another file, which must have
// the same signature: BinaryMnist.Load checks it and says what differs.
using System;
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
using var explanation = BinaryMnist.ExplainImage(model, new BinaryMnist.Batch(image), classes, new KernelImageOptions
{
    Kernel = { NSamples = nsamples, Seed = 0, Progress = new ConsoleProgress("KernelSHAP") },
    Slic = { NSegments = 200, Sigma = 0 },
    Background = 0,
});

string[] names = classes.Select(c => c.ToString().Replace('_', ' ')).ToArray();   // "digit 0", "digit 1"
Console.WriteLine($"{explanation.SegmentCount} superpixels; {explanation.Features.EvaluatedCoalitions[0]} coalitions evaluated");
for (int l = 0; l < explanation.Labels.Count; l++)
{
    double sum = explanation.ShapleyValues(l).Sum();
    Console.WriteLine($"  {names[l],-8} model output {explanation.ModelOutputs[l],9:F4} = " +
                      $"base {explanation.BaseValues[l],9:F4} + sum of Shapley values {sum,9:F4}");
}
// One panel per class: the heatmap over the image, one shared colour scale and bar.
string png = options.Output("kernelshap-binary-mnist.png");
ImagePlot.Save(png, explanation, image.reshape(28, 28, 1), new ImagePlotOptions { ColumnLabels = names });
Console.WriteLine($"Picture: {png} ({clock.Elapsed.TotalSeconds:F1} s in all)");

/// <summary>DIANNA's binary MNIST model, typed from its ONNX file at build time.</summary>
[ExplainableOnnx("models/binary-mnist-model.onnx", Labels = new[] { "digit 0", "digit 1" })]
internal sealed partial class BinaryMnist
{
}
