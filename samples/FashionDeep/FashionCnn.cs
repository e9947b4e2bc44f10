using ShapGen;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Samples.Fashion;

/// <summary>The lab's Fashion-MNIST CNN: Conv2d(1,32,3), ReLU, MaxPool2d(2), Flatten, Linear(5408,256), ReLU, Linear(256,10), Softmax.</summary>
[Explainable(Labels = new[] { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" })]
public sealed partial class FashionCnn : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(1, 32, 3);
    private readonly nn.Module<Tensor, Tensor> relu1 = nn.ReLU();
    private readonly nn.Module<Tensor, Tensor> pool = nn.MaxPool2d(2);
    private readonly nn.Module<Tensor, Tensor> flatten = nn.Flatten();
    private readonly nn.Module<Tensor, Tensor> hidden = nn.Linear(32 * 13 * 13, 256);
    private readonly nn.Module<Tensor, Tensor> relu2 = nn.ReLU();
    private readonly nn.Module<Tensor, Tensor> output = nn.Linear(256, 10);
    private readonly nn.Module<Tensor, Tensor> softmax = nn.Softmax(1);

    public FashionCnn() : base(nameof(FashionCnn)) => RegisterComponents();

    [return: Shape(10)]
    public override Tensor forward([Shape(1, 28, 28)] Tensor image) =>
        softmax.call(output.call(relu2.call(hidden.call(flatten.call(pool.call(relu1.call(conv.call(image))))))));
}
