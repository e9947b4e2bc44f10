using System.Collections.Generic;

namespace ShapGen.Generators.Tests;

/// <summary>
/// Realistic models in the style of the PyTorch tutorials, the shap/Captum examples and TorchSharpExamples, each
/// correct as written. <see cref="Bugs"/> plants one shape bug in one of them (a wrong size, a wrong dimension, a
/// forgotten factor) and names the line where TorchSharp would fail or the declared shape is contradicted.
/// </summary>
internal static class RealisticCorpus
{
    private const string U = TestModels.Usings + "using System.Collections.Generic;\nnamespace Corpus;\n";

    /// <summary>Shared user modules (a ResNet BasicBlock, a transformer encoder block, a generic TimeDistributed).</summary>
    private const string Blocks = """

        public sealed class BasicBlock : nn.Module<Tensor, Tensor>
        {
            private readonly nn.Module<Tensor, Tensor> conv1, bn1, conv2, bn2;
            private readonly nn.Module<Tensor, Tensor>? downsample;
            public BasicBlock(long inPlanes, long planes, long stride = 1) : base(nameof(BasicBlock))
            {
                conv1 = nn.Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
                bn1 = nn.BatchNorm2d(planes);
                conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: false);
                bn2 = nn.BatchNorm2d(planes);
                if (stride != 1 || inPlanes != planes)
                    downsample = nn.Sequential(nn.Conv2d(inPlanes, planes, 1, stride: stride, bias: false), nn.BatchNorm2d(planes));
                RegisterComponents();
            }
            public override Tensor forward(Tensor x)
            {
                var out1 = nn.functional.relu(bn1.call(conv1.call(x)));
                var out2 = bn2.call(conv2.call(out1));
                var identity = downsample is not null ? downsample.call(x) : x;
                return nn.functional.relu(out2 + identity);
            }
        }

        public sealed class EncoderBlock : nn.Module<Tensor, Tensor>
        {
            private readonly TorchSharp.Modules.MultiheadAttention attention;
            private readonly nn.Module<Tensor, Tensor> norm1, norm2, ff1, ff2;
            public EncoderBlock(long dim, long heads, long hidden) : base(nameof(EncoderBlock))
            {
                attention = nn.MultiheadAttention(dim, heads);
                norm1 = nn.LayerNorm(dim);
                norm2 = nn.LayerNorm(dim);
                ff1 = nn.Linear(dim, hidden);
                ff2 = nn.Linear(hidden, dim);
                RegisterComponents();
            }
            public override Tensor forward(Tensor x)
            {
                var t = x.transpose(0, 1);
                var attended = attention.call(t, t, t).Item1.transpose(0, 1);
                var h = norm1.call(x + attended);
                return norm2.call(h + ff2.call(nn.functional.relu(ff1.call(h))));
            }
        }

        public sealed class TimeDistributed<T> : nn.Module<Tensor, Tensor> where T : nn.Module<Tensor, Tensor>
        {
            private readonly T inner;
            public TimeDistributed(T inner) : base(nameof(TimeDistributed<T>)) { this.inner = inner; RegisterComponents(); }
            public override Tensor forward(Tensor x)
            {
                long batch = x.shape[0], steps = x.shape[1];
                var y = inner.call(x.reshape(batch * steps, x.shape[2]));
                return y.reshape(batch, steps, -1);
            }
        }
        """;

    /// <summary>Each correct model by name.</summary>
    public static readonly IReadOnlyList<(string Name, string Source)> Models = new (string, string)[]
    {
        ("mnist mlp", U + """
            [Explainable] public partial class Mlp : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> fc1 = nn.Linear(784, 128), fc2 = nn.Linear(128, 10);
                public Mlp() : base(nameof(Mlp)) => RegisterComponents();
                [return: Shape(10)]
                public override Tensor forward([Shape(1, 28, 28)] Tensor x)
                {
                    var h = nn.functional.relu(fc1.call(x.view(-1, 784)));
                    return fc2.call(h);
                }
            }
            """),
        ("lenet5", U + """
            [Explainable] public partial class LeNet5 : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv1 = nn.Conv2d(1, 6, 5, padding: 2), conv2 = nn.Conv2d(6, 16, 5);
                private readonly nn.Module<Tensor, Tensor> pool = nn.MaxPool2d(2);
                private readonly nn.Module<Tensor, Tensor> fc1 = nn.Linear(16 * 5 * 5, 120), fc2 = nn.Linear(120, 84), fc3 = nn.Linear(84, 10);
                public LeNet5() : base(nameof(LeNet5)) => RegisterComponents();
                public override Tensor forward([Shape(1, 28, 28)] Tensor x)
                {
                    x = pool.call(nn.functional.relu(conv1.call(x)));
                    x = pool.call(nn.functional.relu(conv2.call(x)));
                    x = x.flatten(1);
                    x = nn.functional.relu(fc1.call(x));
                    x = nn.functional.relu(fc2.call(x));
                    return fc3.call(x);
                }
            }
            """),
        ("torchsharp mnist cnn", U + """
            [Explainable] public partial class MnistCnn : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv1 = nn.Conv2d(1, 32, 3), conv2 = nn.Conv2d(32, 64, 3);
                private readonly nn.Module<Tensor, Tensor> pool1 = nn.MaxPool2d(2), dropout1 = nn.Dropout(0.25), flatten = nn.Flatten();
                private readonly nn.Module<Tensor, Tensor> fc1 = nn.Linear(9216, 128), dropout2 = nn.Dropout(0.5), fc2 = nn.Linear(128, 10);
                private readonly nn.Module<Tensor, Tensor> logsm = nn.LogSoftmax(1);
                public MnistCnn() : base(nameof(MnistCnn)) => RegisterComponents();
                public override Tensor forward([Shape(1, 28, 28)] Tensor input)
                {
                    var l11 = conv1.call(input).relu();
                    var l12 = conv2.call(l11).relu();
                    var l13 = pool1.call(l12);
                    var l14 = dropout1.call(l13);
                    var x = flatten.call(l14);
                    var l21 = fc1.call(x).relu();
                    var l22 = dropout2.call(l21);
                    return logsm.call(fc2.call(l22));
                }
            }
            """),
        ("alexnet cifar", U + """
            [Explainable] public partial class AlexNet : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> features = nn.Sequential(
                    ("c1", nn.Conv2d(3, 64, 3, stride: 2, padding: 1)), ("r1", nn.ReLU()), ("p1", nn.MaxPool2d(2)),
                    ("c2", nn.Conv2d(64, 192, 3, padding: 1)), ("r2", nn.ReLU()), ("p2", nn.MaxPool2d(2)),
                    ("c3", nn.Conv2d(192, 384, 3, padding: 1)), ("r3", nn.ReLU()),
                    ("c4", nn.Conv2d(384, 256, 3, padding: 1)), ("r4", nn.ReLU()),
                    ("c5", nn.Conv2d(256, 256, 3, padding: 1)), ("r5", nn.ReLU()), ("p3", nn.MaxPool2d(2)));
                private readonly nn.Module<Tensor, Tensor> avgPool = nn.AdaptiveAvgPool2d(new long[] { 2, 2 });
                private readonly nn.Module<Tensor, Tensor> classifier = nn.Sequential(
                    nn.Dropout(), nn.Linear(256 * 2 * 2, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 10));
                public AlexNet() : base(nameof(AlexNet)) => RegisterComponents();
                [return: Shape(10)]
                public override Tensor forward([Shape(3, 32, 32)] Tensor x)
                {
                    var f = avgPool.call(features.call(x));
                    var flat = f.reshape(new long[] { f.shape[0], 256 * 2 * 2 });
                    return classifier.call(flat);
                }
            }
            """),
        ("vgg config loop", U + """
            [Explainable] public partial class Vgg : nn.Module<Tensor, Tensor>
            {
                private static readonly long[] Cfg = { 16, 16, 0, 32, 32, 0, 64, 64, 64, 0 };
                private readonly nn.Module<Tensor, Tensor> features, classifier;
                public Vgg(int classes = 10) : base(nameof(Vgg))
                {
                    var layers = new List<nn.Module<Tensor, Tensor>>();
                    long inChannels = 3;
                    foreach (var v in Cfg)
                    {
                        if (v == 0) layers.Add(nn.MaxPool2d(2, 2));
                        else
                        {
                            layers.Add(nn.Conv2d(inChannels, v, 3, padding: 1));
                            layers.Add(nn.BatchNorm2d(v));
                            layers.Add(nn.ReLU());
                            inChannels = v;
                        }
                    }
                    features = nn.Sequential(layers.ToArray());
                    classifier = nn.Sequential(nn.Linear(64 * 4 * 4, 256), nn.ReLU(), nn.Linear(256, 10));
                    RegisterComponents();
                }
                public override Tensor forward([Shape(3, 32, 32)] Tensor x)
                {
                    var h = features.call(x);
                    h = h.view(h.size(0), -1);
                    return classifier.call(h);
                }
            }
            """),
        ("resnet basic blocks", U + Blocks + """
            [Explainable] public partial class ResNetSmall : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv1 = nn.Conv2d(3, 16, 3, padding: 1, bias: false), bn1 = nn.BatchNorm2d(16);
                private readonly nn.Module<Tensor, Tensor> layer1 = nn.Sequential(new BasicBlock(16, 16), new BasicBlock(16, 16));
                private readonly nn.Module<Tensor, Tensor> layer2 = nn.Sequential(new BasicBlock(16, 32, 2), new BasicBlock(32, 32));
                private readonly nn.Module<Tensor, Tensor> layer3 = nn.Sequential(new BasicBlock(32, 64, 2), new BasicBlock(64, 64));
                private readonly nn.Module<Tensor, Tensor> avgpool = nn.AdaptiveAvgPool2d(1), fc = nn.Linear(64, 10);
                public ResNetSmall() : base(nameof(ResNetSmall)) => RegisterComponents();
                [return: Shape(10)]
                public override Tensor forward([Shape(3, 32, 32)] Tensor x)
                {
                    var h = nn.functional.relu(bn1.call(conv1.call(x)));
                    h = layer3.call(layer2.call(layer1.call(h)));
                    return fc.call(torch.flatten(avgpool.call(h), 1));
                }
            }
            """),
        ("conv autoencoder", U + """
            [Explainable] public partial class AutoEncoder : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> encoder = nn.Sequential(
                    nn.Conv2d(1, 16, 3, stride: 2, padding: 1), nn.ReLU(), nn.Conv2d(16, 32, 3, stride: 2, padding: 1), nn.ReLU());
                private readonly nn.Module<Tensor, Tensor> decoder = nn.Sequential(
                    nn.ConvTranspose2d(32, 16, 3, stride: 2, padding: 1, output_padding: 1), nn.ReLU(),
                    nn.ConvTranspose2d(16, 1, 3, stride: 2, padding: 1, output_padding: 1), nn.Sigmoid());
                public AutoEncoder() : base(nameof(AutoEncoder)) => RegisterComponents();
                [return: Shape(1, 28, 28)]
                public override Tensor forward([Shape(1, 28, 28)] Tensor x)
                {
                    var code = encoder.call(x);
                    return decoder.call(code);
                }
            }
            """),
        ("unet skip", U + """
            [Explainable] public partial class TinyUNet : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> enc1 = nn.Conv2d(1, 16, 3, padding: 1), enc2 = nn.Conv2d(16, 32, 3, padding: 1);
                private readonly nn.Module<Tensor, Tensor> pool = nn.MaxPool2d(2), up = nn.ConvTranspose2d(32, 16, 2, stride: 2);
                private readonly nn.Module<Tensor, Tensor> dec = nn.Conv2d(32, 16, 3, padding: 1), head = nn.Conv2d(16, 2, 1);
                public TinyUNet() : base(nameof(TinyUNet)) => RegisterComponents();
                [return: Shape(2, 32, 32)]
                public override Tensor forward([Shape(1, 32, 32)] Tensor x)
                {
                    var e1 = enc1.call(x).relu();
                    var e2 = enc2.call(pool.call(e1)).relu();
                    var u = up.call(e2);
                    var d = dec.call(torch.cat(new[] { u, e1 }, 1)).relu();
                    return head.call(d);
                }
            }
            """),
        ("lstm text classifier", U + """
            [Explainable] public partial class TextLstm : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> embedding = nn.Embedding(5000, 64);
                private readonly TorchSharp.Modules.LSTM lstm = nn.LSTM(64, 128, batchFirst: true);
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(128, 2);
                public TextLstm() : base(nameof(TextLstm)) => RegisterComponents();
                public override Tensor forward([Shape(40)] Tensor tokens)
                {
                    var embedded = embedding.call(tokens);
                    var (output, hidden, cell) = lstm.call(embedded);
                    var last = output.select(1, -1);
                    return fc.call(last);
                }
            }
            """),
        ("bidirectional gru", U + """
            [Explainable] public partial class BiGru : nn.Module<Tensor, Tensor>
            {
                private readonly TorchSharp.Modules.GRU gru = nn.GRU(12, 64, batchFirst: true, bidirectional: true);
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(128, 4);
                public BiGru() : base(nameof(BiGru)) => RegisterComponents();
                public override Tensor forward([Shape(30, 12)] Tensor x)
                {
                    var (_, h) = gru.call(x);
                    var both = torch.cat(new[] { h[0], h[1] }, 1);
                    return fc.call(both);
                }
            }
            """),
        ("transformer encoder", U + Blocks + """
            [Explainable] public partial class TinyTransformer : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> embed = nn.Embedding(1000, 64);
                private readonly nn.Module<Tensor, Tensor> block1 = new EncoderBlock(64, 4, 256), block2 = new EncoderBlock(64, 4, 256);
                private readonly nn.Module<Tensor, Tensor> head = nn.Linear(64, 3);
                public TinyTransformer() : base(nameof(TinyTransformer)) => RegisterComponents();
                [return: Shape(3)]
                public override Tensor forward([Shape(16)] Tensor tokens)
                {
                    var h = block2.call(block1.call(embed.call(tokens)));
                    return head.call(h.mean(new long[] { 1 }));
                }
            }
            """),
        ("1d cnn signal", U + """
            [Explainable] public partial class SignalCnn : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv1 = nn.Conv1d(1, 16, 7, padding: 3), pool = nn.MaxPool1d(2);
                private readonly nn.Module<Tensor, Tensor> conv2 = nn.Conv1d(16, 32, 5, padding: 2), gap = nn.AdaptiveAvgPool1d(1);
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(32, 5);
                public SignalCnn() : base(nameof(SignalCnn)) => RegisterComponents();
                public override Tensor forward([Shape(1, 128)] Tensor signal)
                {
                    var h = pool.call(conv1.call(signal).relu());
                    h = gap.call(conv2.call(h).relu()).squeeze(-1);
                    return fc.call(h);
                }
            }
            """),
        ("tabular mlp", U + """
            [Explainable(Labels = new[] { "risk" })] public partial class Tabular : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> net = nn.Sequential(
                    nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1));
                public Tabular() : base(nameof(Tabular)) => RegisterComponents();
                public override Tensor forward([Shape(20)] Tensor features) => net.call(features);
            }
            """),
        ("image and tabular fusion", U + """
            [Explainable] public partial class Fusion : nn.Module<Tensor, Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(1, 8, 3, padding: 1), pool = nn.MaxPool2d(2);
                private readonly nn.Module<Tensor, Tensor> meta = nn.Linear(10, 16), head = nn.Linear(8 * 14 * 14 + 16, 2);
                public Fusion() : base(nameof(Fusion)) => RegisterComponents();
                public override Tensor forward([Shape(1, 28, 28)] Tensor image, [Shape(10)] Tensor tabular)
                {
                    var a = pool.call(conv.call(image).relu()).flatten(1);
                    var b = meta.call(tabular).relu();
                    return head.call(torch.cat(new[] { a, b }, 1));
                }
            }
            """),
        ("squeeze excitation", U + """
            public sealed class SqueezeExcite : nn.Module<Tensor, Tensor>
            {
                private readonly long channels;
                private readonly nn.Module<Tensor, Tensor> fc1, fc2;
                public SqueezeExcite(long channels, long reduction) : base(nameof(SqueezeExcite))
                {
                    this.channels = channels;
                    fc1 = nn.Linear(channels, channels / reduction);
                    fc2 = nn.Linear(channels / reduction, channels);
                    RegisterComponents();
                }
                public override Tensor forward(Tensor x)
                {
                    var s = x.mean(new long[] { 2, 3 });
                    s = torch.sigmoid(fc2.call(fc1.call(s).relu()));
                    return x * s.view(x.size(0), channels, 1, 1);
                }
            }
            [Explainable] public partial class SeNet : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(3, 32, 3, padding: 1), se = new SqueezeExcite(32, 4);
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(32 * 16 * 16, 10);
                public SeNet() : base(nameof(SeNet)) => RegisterComponents();
                public override Tensor forward([Shape(3, 16, 16)] Tensor x) => fc.call(se.call(conv.call(x)).flatten(1));
            }
            """),
        ("depthwise separable", U + """
            [Explainable] public partial class MobileBlockNet : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> stem = nn.Conv2d(3, 32, 3, stride: 2, padding: 1);
                private readonly nn.Module<Tensor, Tensor> depthwise = nn.Conv2d(32, 32, 3, padding: 1, groups: 32);
                private readonly nn.Module<Tensor, Tensor> pointwise = nn.Conv2d(32, 64, 1);
                private readonly nn.Module<Tensor, Tensor> pool = nn.AdaptiveAvgPool2d(1), fc = nn.Linear(64, 10);
                public MobileBlockNet() : base(nameof(MobileBlockNet)) => RegisterComponents();
                public override Tensor forward([Shape(3, 64, 64)] Tensor x)
                {
                    var h = nn.functional.relu6(stem.call(x));
                    h = nn.functional.relu6(pointwise.call(nn.functional.relu6(depthwise.call(h))));
                    return fc.call(pool.call(h).flatten(1));
                }
            }
            """),
        ("captum titanic", U + """
            [Explainable(Labels = new[] { "died", "survived" })] public partial class TitanicNet : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> linear1 = nn.Linear(12, 12), sigmoid1 = nn.Sigmoid();
                private readonly nn.Module<Tensor, Tensor> linear2 = nn.Linear(12, 8), sigmoid2 = nn.Sigmoid();
                private readonly nn.Module<Tensor, Tensor> linear3 = nn.Linear(8, 2), softmax = nn.Softmax(1);
                public TitanicNet() : base(nameof(TitanicNet)) => RegisterComponents();
                public override Tensor forward([Shape(12)] Tensor x)
                {
                    var lin1 = linear1.call(x);
                    var lin2 = linear2.call(sigmoid1.call(lin1));
                    return softmax.call(linear3.call(sigmoid2.call(lin2)));
                }
            }
            """),
        ("shap mnist deep explainer", U + """
            [Explainable] public partial class ShapNet : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> convLayers = nn.Sequential(
                    nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(10, 20, 5), nn.Dropout(), nn.MaxPool2d(2), nn.ReLU());
                private readonly nn.Module<Tensor, Tensor> fcLayers = nn.Sequential(
                    nn.Linear(320, 50), nn.ReLU(), nn.Dropout(), nn.Linear(50, 10), nn.Softmax(1));
                public ShapNet() : base(nameof(ShapNet)) => RegisterComponents();
                [return: Shape(10)]
                public override Tensor forward([Shape(1, 28, 28)] Tensor x)
                {
                    x = convLayers.call(x);
                    x = x.view(-1, 320);
                    x = fcLayers.call(x);
                    return x;
                }
            }
            """),
        ("helper methods", U + """
            [Explainable] public partial class Helpers : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv1 = nn.Conv2d(3, 8, 3), conv2 = nn.Conv2d(8, 16, 3);
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(16 * 4 * 4, 4);
                public Helpers() : base(nameof(Helpers)) => RegisterComponents();
                public override Tensor forward([Shape(3, 24, 24)] Tensor x) => Head(Features(x));
                private Tensor Features(Tensor x)
                {
                    var h = Block(conv1, x);
                    return Block(conv2, h);
                }
                private static Tensor Block(nn.Module<Tensor, Tensor> conv, Tensor x) => nn.functional.max_pool2d(conv.call(x).relu(), 2);
                private Tensor Head(Tensor x) => fc.call(x.flatten(1));
            }
            """),
        ("branches on a flag", U + """
            [Explainable] public partial class Flagged : nn.Module<Tensor, Tensor>
            {
                private readonly bool useNorm;
                private readonly nn.Module<Tensor, Tensor> fc1 = nn.Linear(16, 32), norm = nn.LayerNorm(32), fc2 = nn.Linear(32, 10);
                public Flagged(bool useNorm) : base(nameof(Flagged)) { this.useNorm = useNorm; RegisterComponents(); }
                public override Tensor forward([Shape(16)] Tensor x)
                {
                    Tensor h = fc1.call(x);
                    if (useNorm)
                        h = norm.call(h);
                    else
                        h = h.relu();
                    return fc2.call(h);
                }
            }
            """),
        ("pixel shuffle super resolution", U + """
            [Explainable] public partial class SuperRes : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv1 = nn.Conv2d(1, 64, 5, padding: 2), conv2 = nn.Conv2d(64, 32, 3, padding: 1);
                private readonly nn.Module<Tensor, Tensor> conv3 = nn.Conv2d(32, 1 * 3 * 3, 3, padding: 1), shuffle = nn.PixelShuffle(3);
                public SuperRes() : base(nameof(SuperRes)) => RegisterComponents();
                [return: Shape(1, 48, 48)]
                public override Tensor forward([Shape(1, 16, 16)] Tensor x)
                {
                    x = torch.tanh(conv1.call(x));
                    x = torch.tanh(conv2.call(x));
                    return shuffle.call(conv3.call(x));
                }
            }
            """),
        ("upsampling decoder", U + """
            [Explainable] public partial class Decoder : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(32, 64 * 7 * 7);
                private readonly nn.Module<Tensor, Tensor> up = nn.Upsample(scale_factor: new double[] { 2, 2 });
                private readonly nn.Module<Tensor, Tensor> conv1 = nn.Conv2d(64, 32, 3, padding: 1), conv2 = nn.Conv2d(32, 1, 3, padding: 1);
                public Decoder() : base(nameof(Decoder)) => RegisterComponents();
                [return: Shape(1, 28, 28)]
                public override Tensor forward([Shape(32)] Tensor z)
                {
                    var h = fc.call(z).view(-1, 64, 7, 7);
                    h = conv1.call(up.call(h)).relu();
                    return torch.sigmoid(conv2.call(up.call(h)));
                }
            }
            """),
        ("group and instance norm", U + """
            [Explainable] public partial class Normed : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv1 = nn.Conv2d(3, 32, 3, padding: 1), gn = nn.GroupNorm(4, 32);
                private readonly nn.Module<Tensor, Tensor> conv2 = nn.Conv2d(32, 16, 3, padding: 1), inorm = nn.InstanceNorm2d(16, affine: true);
                private readonly nn.Module<Tensor, Tensor> head = nn.Linear(16, 2);
                public Normed() : base(nameof(Normed)) => RegisterComponents();
                public override Tensor forward([Shape(3, 20, 20)] Tensor x)
                {
                    var h = gn.call(conv1.call(x)).relu();
                    h = inorm.call(conv2.call(h)).relu();
                    return head.call(h.amax(new long[] { 2, 3 }));
                }
            }
            """),
        ("bag of embeddings", U + """
            [Explainable] public partial class BagOfWords : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> embedding = nn.Embedding(100, 16), fc = nn.Linear(16, 4);
                public BagOfWords() : base(nameof(BagOfWords)) => RegisterComponents();
                public override Tensor forward([Shape(10)] Tensor tokens) => fc.call(embedding.call(tokens).mean(new long[] { 1 }));
            }
            """),
        ("temporal convolution", U + """
            [Explainable] public partial class Tcn : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv = nn.Conv1d(8, 16, 3, padding: 1), perStep = nn.Linear(16, 4);
                public Tcn() : base(nameof(Tcn)) => RegisterComponents();
                public override Tensor forward([Shape(50, 8)] Tensor x)
                {
                    var h = conv.call(x.permute(0, 2, 1)).relu();
                    var steps = perStep.call(h.permute(0, 2, 1));
                    return steps.mean(new long[] { 1 });
                }
            }
            """),
        ("attention pooling", U + """
            [Explainable] public partial class AttentionPool : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> score = nn.Linear(32, 1), fc = nn.Linear(32, 2);
                public AttentionPool() : base(nameof(AttentionPool)) => RegisterComponents();
                public override Tensor forward([Shape(10, 32)] Tensor h)
                {
                    var weights = torch.softmax(score.call(h), 1);
                    var pooled = (h * weights).sum(1);
                    return fc.call(pooled);
                }
            }
            """),
        ("gated linear unit", U + """
            [Explainable] public partial class Gated : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> proj = nn.Linear(16, 64), fc = nn.Linear(32, 4);
                public Gated() : base(nameof(Gated)) => RegisterComponents();
                public override Tensor forward([Shape(16)] Tensor x)
                {
                    var parts = proj.call(x).chunk(2, -1);
                    var gated = parts[0] * torch.sigmoid(parts[1]);
                    return fc.call(gated);
                }
            }
            """),
        ("pyramid pooling", U + """
            [Explainable] public partial class Pyramid : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(3, 8, 3, padding: 1);
                private readonly nn.Module<Tensor, Tensor> p1 = nn.AdaptiveMaxPool2d(new long[] { 1, 1 }), p2 = nn.AdaptiveMaxPool2d(new long[] { 2, 2 }), p4 = nn.AdaptiveMaxPool2d(new long[] { 4, 4 });
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(8 * (1 + 4 + 16), 5);
                public Pyramid() : base(nameof(Pyramid)) => RegisterComponents();
                public override Tensor forward([Shape(3, 24, 24)] Tensor x)
                {
                    var h = conv.call(x).relu();
                    var pooled = torch.cat(new[] { p1.call(h).flatten(1), p2.call(h).flatten(1), p4.call(h).flatten(1) }, 1);
                    return fc.call(pooled);
                }
            }
            """),
        ("stacked heads", U + """
            [Explainable] public partial class Heads : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> h1 = nn.Linear(12, 6), h2 = nn.Linear(12, 6), h3 = nn.Linear(12, 6), fc = nn.Linear(6, 2);
                public Heads() : base(nameof(Heads)) => RegisterComponents();
                public override Tensor forward([Shape(12)] Tensor x)
                {
                    var all = torch.stack(new[] { h1.call(x), h2.call(x), h3.call(x) }, 1);
                    return fc.call(all.mean(new long[] { 1 }));
                }
            }
            """),
        ("time distributed", U + Blocks + """
            [Explainable] public partial class PerFrame : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> encode = new TimeDistributed<nn.Module<Tensor, Tensor>>(nn.Linear(12, 8));
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(5 * 8, 3);
                public PerFrame() : base(nameof(PerFrame)) => RegisterComponents();
                public override Tensor forward([Shape(5, 12)] Tensor frames) => fc.call(encode.call(frames).flatten(1));
            }
            """),
        ("siamese shared encoder", U + """
            public sealed class Encoder : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(1, 4, 3), fc = nn.Linear(4 * 26 * 26, 64);
                public Encoder() : base(nameof(Encoder)) => RegisterComponents();
                public override Tensor forward(Tensor x) => fc.call(conv.call(x).relu().flatten(1));
            }
            [Explainable] public partial class Siamese : nn.Module<Tensor, Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> encoder = new Encoder(), head = nn.Linear(64, 1);
                public Siamese() : base(nameof(Siamese)) => RegisterComponents();
                public override Tensor forward([Shape(1, 28, 28)] Tensor left, [Shape(1, 28, 28)] Tensor right)
                {
                    var a = encoder.call(left);
                    var b = encoder.call(right);
                    return torch.sigmoid(head.call(torch.abs(a - b)));
                }
            }
            """),
        ("dense connections in a loop", U + """
            [Explainable] public partial class DenseNetTiny : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor>[] convs = { nn.Conv2d(8, 4, 3, padding: 1), nn.Conv2d(12, 4, 3, padding: 1), nn.Conv2d(16, 4, 3, padding: 1) };
                private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(20, 2);
                public DenseNetTiny() : base(nameof(DenseNetTiny)) => RegisterComponents();
                public override Tensor forward([Shape(8, 10, 10)] Tensor x)
                {
                    foreach (var conv in convs)
                        x = torch.cat(new[] { x, conv.call(x).relu() }, 1);
                    return fc.call(x.mean(new long[] { 2, 3 }));
                }
            }
            """),
        ("scaled dot product attention", U + """
            [Explainable] public partial class SelfAttention : nn.Module<Tensor, Tensor>
            {
                private readonly nn.Module<Tensor, Tensor> q = nn.Linear(32, 32), k = nn.Linear(32, 32), v = nn.Linear(32, 32), fc = nn.Linear(32, 2);
                public SelfAttention() : base(nameof(SelfAttention)) => RegisterComponents();
                public override Tensor forward([Shape(10, 32)] Tensor x)
                {
                    var scores = q.call(x).matmul(k.call(x).transpose(1, 2)) / 8.0;
                    var attended = scores.softmax(-1).matmul(v.call(x));
                    return fc.call(attended.mean(new long[] { 1 }));
                }
            }
            """),
    };

    /// <summary>A planted bug: the model, the text replaced, its replacement, and a text unique to the line that must be reported.</summary>
    public static readonly IReadOnlyList<(string Model, string Find, string Replace, string Line)> Bugs = new (string, string, string, string)[]
    {
        ("mnist mlp", "nn.Linear(784, 128)", "nn.Linear(748, 128)", "fc1.call(x.view(-1, 784))"),
        ("lenet5", "nn.Linear(16 * 5 * 5, 120)", "nn.Linear(16 * 4 * 4, 120)", "relu(fc1.call(x))"),
        ("torchsharp mnist cnn", "nn.Linear(9216, 128)", "nn.Linear(9206, 128)", "var l21"),
        ("alexnet cifar", "256 * 2 * 2 });", "256 * 3 * 3 });", "var flat ="),
        ("vgg config loop", "nn.Linear(64 * 4 * 4, 256)", "nn.Linear(64 * 2 * 2, 256)", "return classifier.call(h);"),
        ("resnet basic blocks", "new BasicBlock(32, 64, 2)", "new BasicBlock(16, 64, 2)", "var out1 ="),
        ("conv autoencoder", "nn.ConvTranspose2d(16, 1, 3, stride: 2, padding: 1, output_padding: 1)", "nn.ConvTranspose2d(16, 1, 3, stride: 2, padding: 1)", "return decoder.call(code);"),
        ("unet skip", "new[] { u, e1 }", "new[] { u, e2 }", "var d ="),
        ("lstm text classifier", "nn.Embedding(5000, 64)", "nn.Embedding(5000, 32)", "var (output, hidden, cell)"),
        ("bidirectional gru", "nn.Linear(128, 4)", "nn.Linear(64, 4)", "return fc.call(both);"),
        ("transformer encoder", "norm1 = nn.LayerNorm(dim);", "norm1 = nn.LayerNorm(dim / 2);", "var h = norm1.call"),
        ("1d cnn signal", "nn.Linear(32, 5)", "nn.Linear(16, 5)", "return fc.call(h);"),
        ("tabular mlp", "nn.BatchNorm1d(64)", "nn.BatchNorm1d(32)", "=> net.call(features)"),
        ("image and tabular fusion", "nn.Linear(8 * 14 * 14 + 16, 2)", "nn.Linear(8 * 13 * 13 + 16, 2)", "return head.call"),
        ("squeeze excitation", "s.view(x.size(0), channels, 1, 1)", "s.view(x.size(0), channels / 2, 1, 1)", "return x * s.view"),
        ("depthwise separable", "nn.Conv2d(32, 64, 1)", "nn.Conv2d(64, 64, 1)", "h = nn.functional.relu6(pointwise"),
        ("captum titanic", "nn.Linear(12, 8)", "nn.Linear(10, 8)", "var lin2 ="),
        ("shap mnist deep explainer", "x.view(-1, 320)", "x.view(-1, 300)", "x = x.view"),
        ("helper methods", "nn.Linear(16 * 4 * 4, 4)", "nn.Linear(16 * 5 * 5, 4)", "private Tensor Head"),
        ("branches on a flag", "nn.LayerNorm(32)", "nn.LayerNorm(16)", "h = norm.call(h);"),
        ("pixel shuffle super resolution", "nn.Conv2d(32, 1 * 3 * 3, 3, padding: 1)", "nn.Conv2d(32, 1 * 3 * 2, 3, padding: 1)", "return shuffle.call"),
        ("upsampling decoder", "nn.Linear(32, 64 * 7 * 7)", "nn.Linear(32, 64 * 6 * 6)", "var h = fc.call(z)"),
        ("group and instance norm", "nn.GroupNorm(4, 32)", "nn.GroupNorm(4, 24)", "var h = gn.call"),
        ("bag of embeddings", "embedding.call(tokens).mean(new long[] { 1 })", "embedding.call(tokens).mean(new long[] { 2 })", "=> fc.call"),
        ("temporal convolution", "conv.call(x.permute(0, 2, 1))", "conv.call(x.permute(0, 1, 2))", "var h = conv.call"),
        ("attention pooling", "(h * weights).sum(1)", "(h * weights).sum(2)", "return fc.call(pooled);"),
        ("gated linear unit", "nn.Linear(32, 4)", "nn.Linear(64, 4)", "return fc.call(gated);"),
        ("pyramid pooling", "nn.Linear(8 * (1 + 4 + 16), 5)", "nn.Linear(8 * (1 + 2 + 4), 5)", "return fc.call(pooled);"),
        ("stacked heads", "all.mean(new long[] { 1 })", "all.mean(new long[] { 2 })", "return fc.call(all"),
        ("time distributed", "nn.Linear(12, 8)", "nn.Linear(10, 8)", "var y = inner.call"),
        ("siamese shared encoder", "nn.Linear(64, 1)", "nn.Linear(128, 1)", "return torch.sigmoid(head"),
        ("dense connections in a loop", "nn.Conv2d(12, 4, 3, padding: 1)", "nn.Conv2d(8, 4, 3, padding: 1)", "x = torch.cat(new[] { x, conv.call(x)"),
        ("scaled dot product attention", "k = nn.Linear(32, 32)", "k = nn.Linear(32, 16)", "var scores ="),
    };
}
