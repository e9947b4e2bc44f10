// shap's "Multi-input Gradient Explainer MNIST Example" in C#: train the two-input model, explain 3 test images
// for all 10 classes per input with variances, and write shap-style pictures.
//   dotnet run --project samples/TwoInputMnist -c Release [-- --data DIR] [--quick] [--out DIR]
// With --data DIR (or SHAPGEN_DATA) holding MNIST IDX files, it trains and explains on real digits.
using System;
using System.Diagnostics;
using System.Linq;
using ShapGen;
using ShapGen.Samples;
using ShapGen.Samples.TwoInput;
using TorchSharp;
using static TorchSharp.torch;

var options = SampleArgs.Parse(args);
torch.manual_seed(0);
var clock = Stopwatch.StartNew();
int trainCount = options.Quick ? 600 : options.Int("train", 12000);
int epochs = options.Quick ? 1 : options.Int("epochs", 2);

var (xTrain, yTrain, xTest, yTest) = SampleData.Load(options, "MNIST", trainCount,
    new[] { "train-images-idx3-ubyte.gz", "train-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz", "mnist-t10k-images-idx3-ubyte.gz" },
    new[] { "train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz", "mnist-t10k-labels-idx1-ubyte.gz" },
    (count, seed) => SyntheticImages.Digits(count, seed), "synthetic digits");

var model = new TwoInputMnist();
Trainer.Fit(model, x => model.call(x, x), xTrain, yTrain, epochs, outputsProbabilities: true);
Console.WriteLine($"Test accuracy: {Trainer.Accuracy(x => model.call(x, x), xTest, yTest):P1}");

// Explain: the whole training set is the background; nsamples 200 draws per explained image (shap's default).
int backgroundRows = options.Quick ? 200 : (int)xTrain.shape[0];
var background = new TwoInputMnist.Batch(flat: xTrain[..backgroundRows], image: xTrain[..backgroundRows]);
// Three test images of different digits, as the notebook's first three (7, 2, 1) are.
var testLabels = yTest.data<long>().ToArray();
var picks = Enumerable.Range(0, testLabels.Length).Where(i => Array.IndexOf(testLabels, testLabels[i]) == i).Take(3).Select(i => (long)i).ToArray();
var toExplain = xTest.index_select(0, tensor(picks));
using var explainer = new TwoInputMnist.GradientExplainer(model, background);
using var result = explainer.Explain(new TwoInputMnist.Batch(toExplain, toExplain), new GradientExplainOptions
{
    NSamples = options.Quick ? 20 : 200,
    ReturnVariances = true,
    Seed = 0,
    Progress = new ConsoleProgress("explaining"),
});

// What the notebook prints: one list per output, one array per input, shaped like the input.
Console.WriteLine($"{result.Explanation.OutputCount} outputs x {result.Explanation.InputCount} inputs; " +
                  $"flat {Shapes.Format(result[TwoInputMnist.Label._7].Flat.shape)}, " +
                  $"image {Shapes.Format(result[TwoInputMnist.Label._7].Image.shape)}");
Console.WriteLine($"True labels: {string.Join(", ", picks.Select(i => testLabels[i]))}; " +
                  $"E[f(background)] for '7' = {result.ExpectedValue(TwoInputMnist.Label._7):F4}");
Console.WriteLine(ExplanationSummary.Format(result.Explanation, new ExplanationSummaryOptions { TopK = 3, Sample = 0, RegionSize = 4 }));

var plot = new ImagePlotOptions { ColumnLabels = result.Labels };
string flatPng = options.Output("two-input-flat.png"), imagePng = options.Output("two-input-image.png");
string variancePng = options.Output("two-input-variances.png");
ImagePlot.Save(flatPng, result.ForInput(TwoInputMnist.Input.Flat), toExplain, plot);
ImagePlot.Save(imagePng, result.ForInput(TwoInputMnist.Input.Image), toExplain, plot);
ImagePlot.SaveVariances(variancePng, result.VariancesForInput(TwoInputMnist.Input.Image), toExplain, plot);
Console.WriteLine($"Pictures: {flatPng}, {imagePng}, {variancePng} ({clock.Elapsed.TotalSeconds:F0} s in all)");
