using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

/// <summary>The two-input MNIST model of DESIGN §1 (random weights).</summary>
internal sealed class TwoInputMnistNet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(1, 32, 3);
    private readonly nn.Module<Tensor, Tensor> hidden = nn.Linear(28 * 28 + 32 * 26 * 26, 128);
    private readonly nn.Module<Tensor, Tensor> dropout = nn.Dropout(0.2);
    private readonly nn.Module<Tensor, Tensor> output = nn.Linear(128, 10);

    public TwoInputMnistNet() : base(nameof(TwoInputMnistNet)) => RegisterComponents();

    public override Tensor forward(Tensor flat, Tensor image)
    {
        using var scope = NewDisposeScope();
        var a = flat.flatten(1);
        var b = nn.functional.relu(conv.call(image)).flatten(1);
        var h = nn.functional.relu(hidden.call(cat(new[] { a, b }, 1)));
        return nn.functional.softmax(output.call(dropout.call(h)), 1).MoveToOuterDisposeScope();
    }
}

/// <summary>f(x) = W2 tanh(W1 x + b1) + b2 with a named field <c>head</c> whose input is tanh(W1 x + b1).</summary>
internal sealed class SmallMlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> body;
    private readonly nn.Module<Tensor, Tensor> head;

    public SmallMlp(int inputs, int hiddenUnits, int outputs) : base(nameof(SmallMlp))
    {
        body = nn.Linear(inputs, hiddenUnits, dtype: float64);
        head = nn.Linear(hiddenUnits, outputs, dtype: float64);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => head.call(tanh(body.call(x)));
}

/// <summary>A linear model with known weights: y = x Wᵀ + b.</summary>
internal sealed class KnownLinear : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> linear;

    public KnownLinear(double[,] weight, double[] bias) : base(nameof(KnownLinear))
    {
        var l = nn.Linear(weight.GetLength(1), weight.GetLength(0), dtype: float64);
        using (no_grad())
        {
            l.weight!.copy_(tensor(weight, dtype: float64));
            l.bias!.copy_(tensor(bias, dtype: float64));
        }
        linear = l;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => linear.call(x);
}

/// <summary>A synchronous progress sink (System.Progress posts to the thread pool).</summary>
internal sealed class RecordingProgress : IProgress<ExplainProgress>
{
    private readonly Action<ExplainProgress>? _onReport;
    public RecordingProgress(Action<ExplainProgress>? onReport = null) => _onReport = onReport;
    public System.Collections.Generic.List<ExplainProgress> Reports { get; } = new();
    public void Report(ExplainProgress value)
    {
        lock (Reports) Reports.Add(value);
        _onReport?.Invoke(value);
    }
}
