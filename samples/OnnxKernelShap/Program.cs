// DIANNA's KernelSHAP tutorial in C#: explain a binary MNIST classifier ("digit 0" / "digit 1") on one image with
// SLIC superpixels, nsamples 1000, background 0, 200 segments, and plot one heatmap per class.
//   dotnet run --project samples/OnnxKernelShap -c Release [-- --model binary-mnist-model.onnx] [--data DIR]
// With --model (or --data DIR holding binary-mnist-model.onnx and binary-mnist.npz) it runs the pretrained ONNX
// model on a real test image, exactly as DIANNA's call does. Without, it trains the same kind of network in
// TorchSharp on synthetic 0/1 digits and explains that through the same KernelSHAP image path.
using System;
using System.Diagnostics;
using System.IO;
using ShapGen;
using ShapGen.Samples;
using TorchSharp;
using static TorchSharp.torch;

var options = SampleArgs.Parse(args);
var clock = Stopwatch.StartNew();
int nsamples = options.Quick ? 200 : options.Int("nsamples", 1000);
string? onnxPath = options.String("model") ?? options.DataFile("binary-mnist-model.onnx");
string? npzPath = options.DataFile("binary-mnist.npz");
string[] classNames = { "digit 0", "digit 1" };

Tensor image;          // [28, 28, 1], channels last, as DIANNA's tutorial passes it
ImageExplanation explanation;
if (onnxPath is not null)
{
    if (!File.Exists(onnxPath)) throw new FileNotFoundException($"--model '{onnxPath}' does not exist.", onnxPath);
    // The pretrained model takes RAW pixel values 0..255.
    if (npzPath is not null)
    {
        var test = Npz.Load(npzPath, "X_test");
        int index = options.Int("index", 0);
        image = test[index].to(float32).reshape(28, 28, 1);
        Console.WriteLine($"Image {index} of X_test in {npzPath}");
    }
    else
    {
        var (digits, labels) = SyntheticImages.Digits(20, seed: 3);
        image = digits[labels.eq(0).nonzero()[0, 0]].mul(255).reshape(28, 28, 1);
        Console.WriteLine("A synthetic '0' (pass --data DIR with binary-mnist.npz for a real test image)");
    }
    Console.WriteLine($"Explaining with ONNX model {onnxPath}");
    explanation = OnnxExplain.ExplainImage(onnxPath, image, labels: new[] { 0, 1 }, new KernelImageOptions
    {
        Kernel = { NSamples = nsamples, Seed = 0, Progress = new ConsoleProgress("KernelSHAP") },
        Slic = { NSegments = 200, Sigma = 0 },
        Background = 0,
        AxisLabels = new[] { "height", "width", "channels" },
    });
}
else
{
    Console.WriteLine("No ONNX model given: training a binary 0/1 CNN in TorchSharp on synthetic digits " +
                      "(pass --model binary-mnist-model.onnx for DIANNA's pretrained model).");
    torch.manual_seed(0);
    var (digits, labels) = SyntheticImages.Digits(options.Quick ? 400 : 4000, seed: 1);
    var mask = labels.le(1);
    var x = digits[mask];
    var y = labels[mask];
    var net = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 2), nn.Softmax(1));
    Trainer.Fit(net, b => net.call(b), x, y, epochs: 1, outputsProbabilities: true);
    image = x[y.eq(0).nonzero()[0, 0]].reshape(28, 28, 1);
    explanation = KernelImageExplainer.Explain(ExplainableModel.Create(net), image, new[] { 0, 1 },
        new KernelImageOptions
        {
            Kernel = { NSamples = nsamples, Seed = 0, Progress = new ConsoleProgress("KernelSHAP") },
            Slic = { NSegments = 200, Sigma = 0 },
            Background = 0,
            AxisLabels = new[] { "height", "width", "channels" },
            ModelLayout = ImageLayout.ChannelsFirst,
        });
}

using (explanation)
{
    Console.WriteLine($"{explanation.SegmentCount} superpixels; {explanation.Features.EvaluatedCoalitions[0]} coalitions evaluated");
    for (int l = 0; l < explanation.Labels.Count; l++)
    {
        double sum = 0;
        foreach (var v in explanation.ShapleyValues(l)) sum += v;
        Console.WriteLine($"  {classNames[explanation.Labels[l]],-8} model output {explanation.ModelOutputs[l],9:F4} = " +
                          $"base {explanation.BaseValues[l],9:F4} + sum of Shapley values {sum,9:F4}");
    }
    // One panel per class: the heatmap over the image, one shared colour scale and bar.
    string png = options.Output("kernelshap-binary-mnist.png");
    ImagePlot.Save(png, explanation, image, new ImagePlotOptions { ColumnLabels = classNames });
    Console.WriteLine($"Picture: {png} ({clock.Elapsed.TotalSeconds:F1} s in all)");
}
