using System;
using System.Diagnostics;
using ShapGen.Samples;
using ShapGen.Samples.TwoInput;
using TorchSharp;
using static TorchSharp.torch;

var options = SampleArgs.Parse(args);
torch.manual_seed(0);
int trainCount = options.Quick ? 600 : options.Int("train", 12000);
int epochs = options.Quick ? 1 : options.Int("epochs", 2);

var clock = Stopwatch.StartNew();
Console.WriteLine($"Drawing {trainCount} synthetic digits...");
var (xTrain, yTrain) = SyntheticImages.Digits(trainCount, seed: 1);
var (xTest, yTest) = SyntheticImages.Digits(1000, seed: 2);
Console.WriteLine($"  done in {clock.Elapsed.TotalSeconds:F1} s");

var model = new TwoInputMnist();
Trainer.Fit(model, x => model.call(x, x), xTrain, yTrain, epochs, outputsProbabilities: true);
Console.WriteLine($"Test accuracy: {Trainer.Accuracy(x => model.call(x, x), xTest, yTest):P1} ({clock.Elapsed.TotalSeconds:F1} s)");
