// The Fashion-MNIST DeepExplainer lab in C#: train the lab's CNN, pick one test example per class, check the
// predictions, explain them with DeepLIFT-SHAP against a background subset, and plot the 10 x 10 grid.
//   dotnet run --project samples/FashionDeep -c Release [-- --data DIR] [--quick] [--out DIR]
// With --data DIR holding Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz] …) it uses the real data set;
// otherwise it draws clothing-like silhouettes in-process.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using ShapGen;
using ShapGen.Samples;
using ShapGen.Samples.Fashion;
using TorchSharp;
using static TorchSharp.torch;

var options = SampleArgs.Parse(args);
torch.manual_seed(0);
var clock = Stopwatch.StartNew();
int trainCount = options.Quick ? 600 : options.Int("train", 10000);
int backgroundRows = options.Quick ? 20 : options.Int("background", 100);

var (xTrain, yTrain, xTest, yTest) = SampleData.Load(options, "Fashion-MNIST", trainCount,
    new[] { "train-images-idx3-ubyte.gz", "train-images-idx3-ubyte" },
    new[] { "train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte" },
    (count, seed) => SyntheticImages.Clothing(count, seed), "clothing-like silhouettes");

var model = new FashionCnn();
Trainer.Fit(model, x => model.call(x), xTrain, yTrain, options.Quick ? 1 : options.Int("epochs", 2), outputsProbabilities: true);
Console.WriteLine($"Test accuracy: {Trainer.Accuracy(x => model.call(x), xTest, yTest):P1}");

// One example per class, as the lab does.
var testLabels = yTest.data<long>().ToArray();
var picks = Enumerable.Range(0, 10).Select(c => (long)Array.IndexOf(testLabels, (long)c)).ToArray();
var examples = xTest.index_select(0, tensor(picks));
var background = new FashionCnn.Batch(xTrain[..backgroundRows]);
using var explainer = new FashionCnn.DeepExplainer(model, background);
// CheckAdditivity is on: sum + E[f] = f(x) is verified for every output and image.
using var result = SampleConsole.Progress("DeepLIFT-SHAP", progress =>
    explainer.Explain(new FashionCnn.Batch(examples), new DeepExplainOptions { Progress = progress }));
using (no_grad())
{
    var probabilities = model.call(examples);
    var predicted = probabilities.argmax(1).data<long>().ToArray();
    SampleConsole.Table("One test example per class", new[] { "class", "predicted", "p(class)", "E[f] (class)", "Σ attributions (class)" },
        Enumerable.Range(0, 10).Select(c => (IReadOnlyList<string>)new[]
        {
            result.Labels![c],
            result.Labels[(int)predicted[c]],
            probabilities[c, c].item<float>().ToString("F4", CultureInfo.InvariantCulture),
            result.Explanation.ExpectedValue(c).ToString("F4", CultureInfo.InvariantCulture),
            result.Explanation[c, 0][c].sum().item<float>().ToString("F4", CultureInfo.InvariantCulture),
        }));
}
SampleConsole.Line($"Additivity checked for {result.Explanation.OutputCount} outputs x 10 images: p(class) = E[f] + Σ attributions.");

string png = options.Output("fashion-deepexplainer.png");
ImagePlot.Save(png, result.ForInput(FashionCnn.Input.Image), examples, new ImagePlotOptions
{
    ColumnLabels = result.Labels,
    RowLabels = result.Labels,   // one example per class, in class order
});
Console.WriteLine($"Picture: {png} ({clock.Elapsed.TotalSeconds:F0} s in all)");
