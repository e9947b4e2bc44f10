using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Samples;

/// <summary>Training and test images for a sample: real IDX files from <c>--data</c> when present, else drawn in-process.</summary>
public static class SampleData
{
    /// <summary>
    /// Reads the first IDX image/label pair found in the data folder (values scaled to [0, 1], [N, 1, 28, 28]); the
    /// last 1,000 rows are the test set and up to <paramref name="trainCount"/> rows before them the training set.
    /// Without such files, draws <paramref name="trainCount"/> training and 1,000 test images with <paramref name="draw"/>.
    /// </summary>
    public static (Tensor XTrain, Tensor YTrain, Tensor XTest, Tensor YTest) Load(
        SampleArgs options, string dataSetName, int trainCount, string[] imageFiles, string[] labelFiles,
        Func<int, int, (Tensor Images, Tensor Labels)> draw, string syntheticDescription)
    {
        string? images = options.DataFile(imageFiles), labels = options.DataFile(labelFiles);
        if (images is not null && labels is not null)
        {
            Console.WriteLine($"Reading {dataSetName} from {images}");
            var x = Idx.ReadImages(images).to(float32).div(255).unsqueeze(1);
            var y = Idx.ReadLabels(labels);
            int split = (int)Math.Min(trainCount, x.shape[0] - 1000);
            return (x[..split], y[..split], x[^1000..], y[^1000..]);
        }
        Console.WriteLine($"Drawing {trainCount} {syntheticDescription} (pass --data DIR with {dataSetName} IDX files for real ones)...");
        var (xTrain, yTrain) = draw(trainCount, 1);
        var (xTest, yTest) = draw(1000, 2);
        return (xTrain, yTrain, xTest, yTest);
    }
}
