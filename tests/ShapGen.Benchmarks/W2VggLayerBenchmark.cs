using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ShapGen.Samples.Vgg;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Benchmarks;

/// <summary>
/// W2 (issue 9): VGG16 explained at the input of features[7], 2 images, background 50, ranked outputs 2,
/// nsamples 200, with and without local smoothing 100 (shap's intermediate-layer notebook), random weights.
/// Reference: Captum's LayerGradientShap took 0.80 s and shap 24.7 s on an H100 (shared/bench/README.md).
/// Options: --nsamples 200 --bg 50 --size 224.  --quick: nsamples 4, bg 4, size 64.
/// </summary>
public sealed class W2VggLayerBenchmark : IBenchmark
{
    /// <inheritdoc />
    public string Name => "W2";

    /// <inheritdoc />
    public string Description => "GradientExplainer at the input of VGG16 features[7], 2 images, bg 50, ranked outputs 2, with/without local smoothing";

    /// <inheritdoc />
    public void Run(BenchmarkOptions options, Reporter reporter)
    {
        var device = options.Device;
        int nsamples = int.Parse(options.Get("nsamples", options.Quick ? "4" : "200"), CultureInfo.InvariantCulture);
        int bgRows = int.Parse(options.Get("bg", options.Quick ? "4" : "50"), CultureInfo.InvariantCulture);
        int size = int.Parse(options.Get("size", options.Quick ? "64" : "224"), CultureInfo.InvariantCulture);
        torch.manual_seed(0);
        var vgg = new Vgg16();
        vgg.to(device).eval();
        var background = randn(new long[] { bgRows, 3, size, size }, device: device);
        var images = randn(new long[] { 2, 3, size, size }, device: device);
        using var explainer = new GradientExplainer(ExplainableModel.Create(vgg), new[] { background }, layer: "features.7");
        var phases = new[] { 0.0, 100.0 }.Select(smoothing =>
        {
            var explainOptions = new GradientExplainOptions { NSamples = nsamples, RankedOutputs = 2, LocalSmoothing = smoothing, Seed = 0 };
            return new Phase(smoothing == 0 ? "shapgen" : "shapgen_smoothing", $"ShapGen, local smoothing {smoothing}",
                () => { using var e = explainer.Explain(new[] { images }, explainOptions); });
        }).ToList();
        reporter.RunCase(new Dictionary<string, object?>
        {
            ["workload"] = "W2", ["case"] = $"size={size}",
            ["title"] = $"W2 VGG16 features[7], 2 images, bg {bgRows}, nsamples {nsamples}, ranked outputs 2",
            ["n"] = 2, ["bg"] = bgRows, ["nsamples"] = nsamples, ["ranked_outputs"] = 2, ["size"] = size,
            ["captum_layer_gradient_shap_h100_s"] = 0.80, ["shap_h100_s"] = 24.7,
        }, phases, options.Repeats, device);
    }
}
