using ShapGen;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Samples.TwoInput;

/// <summary>shap's "Multi-input Gradient Explainer MNIST Example" model: the image flattened, and a conv branch.</summary>
[Explainable(Labels = new[] { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" })]
[ExplainLayer(nameof(conv))]   // TwoInputMnist.ConvGradCam, ConvIntegratedGradients, ConvConductance, ConvExplainer
public sealed partial class TwoInputMnist : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(1, 32, 3);
    private readonly nn.Module<Tensor, Tensor> hidden = nn.Linear(28 * 28 + 32 * 26 * 26, 128);
    private readonly nn.Module<Tensor, Tensor> dropout = nn.Dropout(0.2);
    private readonly nn.Module<Tensor, Tensor> output = nn.Linear(128, 10);

    public TwoInputMnist() : base(nameof(TwoInputMnist)) => RegisterComponents();

    [return: Shape(10)]
    public override Tensor forward([Shape(1, 28, 28)] Tensor flat, [Shape(1, 28, 28)] Tensor image)
    {
        var a = flat.flatten(1);
        var b = nn.functional.relu(conv.call(image)).flatten(1);
        var h = nn.functional.relu(hidden.call(cat(new[] { a, b }, 1)));
        return nn.functional.softmax(output.call(dropout.call(h)), 1);
    }
}
