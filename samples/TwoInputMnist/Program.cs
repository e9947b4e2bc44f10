// shap's "Multi-input Gradient Explainer MNIST Example" in C#: train the two-input model, explain 3 test images
// for all 10 classes per input with variances, and write shap-style pictures; then Captum's integrated gradients and
// Grad-CAM beside expected gradients on the same digits in one figure.
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
using var result = SampleConsole.Progress("expected gradients", progress =>
    explainer.Explain(new TwoInputMnist.Batch(toExplain, toExplain), new GradientExplainOptions
    {
        NSamples = options.Quick ? 20 : 200,
        ReturnVariances = true,
        Seed = 0,
        Progress = progress,
    }));

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

// Captum's methods through the same typed API, for each digit's predicted class (rank 0): integrated gradients from a
// black image and Grad-CAM on the conv layer, beside expected gradients of the image input. The methods' scales
// differ by orders of magnitude, so each panel is scaled to its own largest |value|.
var digits = new TwoInputMnist.Batch(toExplain, toExplain);
using var integrated = new TwoInputMnist.IntegratedGradients(model);
using var igResult = integrated.Explain(digits, new IntegratedGradientsOptions { RankedOutputs = 1 });
using var gradCam = new TwoInputMnist.ConvGradCam(model);
using var camResult = gradCam.Explain(digits, new GradCamOptions { RankedOutputs = 1, ReluAttributions = true });
var top = igResult.RankedIndexes!.Select(r => r[0]).ToArray();
var expectedGradients = stack(top.Select((t, i) => result.Explanation[(int)t, (int)TwoInputMnist.Input.Image][i]).ToArray());
static Tensor OwnScale(Tensor a) => a / a.abs().amax(new long[] { 1, 2, 3 }, keepdim: true).clamp_min(1e-12);
string methodsPng = options.Output("two-input-methods.png");
ImagePlot.Save(methodsPng, new[] { OwnScale(expectedGradients), OwnScale(igResult.Rank(0).Image), OwnScale(camResult.Rank(0)) }, toExplain,
    new ImagePlotOptions { ColumnLabels = new[] { "expected gradients", "integrated gradients", "Grad-CAM (conv)" } });
Console.WriteLine($"Predicted: {string.Join(", ", top)}; IG total for the first digit {igResult.Rank(0).Image[0].sum().ToDouble():F3} " +
                  $"= f(x) - f(black) up to the Gauss-Legendre rule's error");
Console.WriteLine($"Pictures: {flatPng}, {imagePng}, {variancePng}, {methodsPng} ({clock.Elapsed.TotalSeconds:F0} s in all)");
