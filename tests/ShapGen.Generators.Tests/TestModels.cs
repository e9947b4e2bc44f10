namespace ShapGen.Generators.Tests;

/// <summary>User model sources used by several tests.</summary>
internal static class TestModels
{
    public const string Usings = """
        using ShapGen;
        using TorchSharp;
        using static TorchSharp.torch;

        """;

    /// <summary>DESIGN §1's two-input MNIST model, verbatim.</summary>
    public const string TwoInputMnist = Usings + """
        namespace Demo;

        [Explainable(Labels = new[] { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" })]
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
        """;

    /// <summary>A VGG16-style network (shap's intermediate-layer example) explained at the input of features.7.</summary>
    public const string Vgg16 = Usings + """
        namespace Demo.Vision;

        [Explainable]
        [ExplainLayer("features.7")]
        public partial class Vgg16 : nn.Module<Tensor, Tensor>
        {
            private readonly nn.Module<Tensor, Tensor> features = nn.Sequential(
                nn.Conv2d(3, 64, 3, padding: 1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(64, 128, 3, padding: 1), nn.ReLU(), nn.Conv2d(128, 128, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(128, 256, 3, padding: 1), nn.ReLU(), nn.Conv2d(256, 256, 3, padding: 1), nn.ReLU(),
                nn.Conv2d(256, 256, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(256, 512, 3, padding: 1), nn.ReLU(), nn.Conv2d(512, 512, 3, padding: 1), nn.ReLU(),
                nn.Conv2d(512, 512, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(512, 512, 3, padding: 1), nn.ReLU(), nn.Conv2d(512, 512, 3, padding: 1), nn.ReLU(),
                nn.Conv2d(512, 512, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2));
            private readonly nn.Module<Tensor, Tensor> classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
                nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000));

            public Vgg16() : base(nameof(Vgg16)) => RegisterComponents();

            [return: Shape(1000)]
            public override Tensor forward([Shape(3, 224, 224)] Tensor image) => classifier.call(features.call(image).flatten(1));
        }
        """;

    /// <summary>A single-input CNN with the user's own label enum and functional nonlinearities (rewritten for DeepLIFT).</summary>
    public const string FashionCnn = Usings + """
        namespace Demo.Fashion;

        public enum Garment { TShirt, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, AnkleBoot }

        [Explainable(Labels = typeof(Garment))]
        public sealed partial class FashionCnn : nn.Module<Tensor, Tensor>
        {
            private readonly nn.Module<Tensor, Tensor> conv1 = nn.Conv2d(1, 16, 5);
            private readonly nn.Module<Tensor, Tensor> pool1 = nn.MaxPool2d(2);
            private readonly nn.Module<Tensor, Tensor> conv2 = nn.Conv2d(16, 32, 3, padding: 1);
            private readonly nn.Module<Tensor, Tensor> pool2 = nn.MaxPool2d(2);
            private readonly nn.Module<Tensor, Tensor> fc1 = nn.Linear(32 * 6 * 6, 64);
            private readonly nn.Module<Tensor, Tensor> fc2 = nn.Linear(64, 10);

            public FashionCnn() : base(nameof(FashionCnn)) => RegisterComponents();

            [return: Shape(10)]
            public override Tensor forward([Shape(1, 28, 28)] Tensor pixels)
            {
                var x = pool1.call(conv1.call(pixels).relu());
                x = pool2.call(nn.functional.leaky_relu(conv2.call(x), 0.1));
                x = x.view(-1, 32 * 6 * 6);
                x = torch.tanh(fc1.call(x));
                return nn.functional.log_softmax(fc2.call(x), 1);
            }
        }
        """;
}
