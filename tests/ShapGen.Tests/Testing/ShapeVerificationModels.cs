using TorchSharp;
using static TorchSharp.torch;

namespace ShapGen.Tests.Testing;

// Models for the shape verification tests. They carry [Shape] but not [Explainable]: some are wrong on purpose, in
// ways the generator would (or could not) report, and the point here is what a run finds.

/// <summary>Every layer kind that static inference has a rule for, used correctly.</summary>
public sealed class EveryLayerKind : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> embed = nn.Embedding(100, 16);
    private readonly TorchSharp.Modules.LSTM lstm = nn.LSTM(16, 8, numLayers: 2, batchFirst: true, bidirectional: true);
    private readonly TorchSharp.Modules.GRU gru = nn.GRU(16, 8, batchFirst: true);
    private readonly TorchSharp.Modules.RNN rnn = nn.RNN(8, 4);
    private readonly TorchSharp.Modules.MultiheadAttention attention = nn.MultiheadAttention(8, 2);
    private readonly nn.Module<Tensor, Tensor> up = nn.ConvTranspose2d(3, 8, 2, stride: 2);
    private readonly nn.Module<Tensor, Tensor> up1 = nn.ConvTranspose1d(8, 4, 3);
    private readonly nn.Module<Tensor, Tensor> upsample = nn.Upsample(scale_factor: new double[] { 2, 2 });
    private readonly nn.Module<Tensor, Tensor> drop = nn.Dropout2d(0.1);
    private readonly nn.Module<Tensor, Tensor> id = nn.Identity();
    private readonly nn.Module<Tensor, Tensor> group = nn.GroupNorm(2, 8);
    private readonly nn.Module<Tensor, Tensor> instance = nn.InstanceNorm2d(8, affine: true);
    private readonly nn.Module<Tensor, Tensor> shuffle = nn.PixelShuffle(2);
    private readonly nn.Module<Tensor, Tensor> head = nn.Linear(6 * 4 + 2 * 16 * 16 + 4 * 8, 3);

    public EveryLayerKind() : base(nameof(EveryLayerKind)) => RegisterComponents();

    [return: Shape(3)]
    public override Tensor forward([Shape(6)] Tensor tokens, [Shape(3, 4, 4)] Tensor image)
    {
        var (seq, _, _) = lstm.call(embed.call(tokens.to_type(ScalarType.Int64)));   // [N, 6, 16]
        var (g, _) = gru.call(seq);                                                 // [N, 6, 8]
        var t = g.transpose(0, 1);                                                  // [6, N, 8]
        var attended = attention.call(t, t, t).Item1;                               // [6, N, 8]
        var (r, _) = rnn.call(attended);                                            // [6, N, 4]
        var a = r.transpose(0, 1).flatten(1);                                       // [N, 24]
        var u = instance.call(group.call(drop.call(up.call(image))));               // [N, 8, 8, 8]
        var p = shuffle.call(upsample.call(id.call(u))).flatten(1);                 // [N, 2, 32, 32] → narrowed below
        var w = up1.call(g.transpose(1, 2)).flatten(1);                             // [N, 4, 8]
        return head.call(torch.cat(new[] { a, p.narrow(1, 0, 2 * 16 * 16), w }, 1));
    }
}

/// <summary>A hidden size computed at run time (invisible to static inference) that is wrong.</summary>
public sealed class RuntimeSizedMlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> fc1, fc2;

    public RuntimeSizedMlp() : this(System.Environment.ProcessorCount > 0 ? 30 : 32) { }

    private RuntimeSizedMlp(int hidden) : base(nameof(RuntimeSizedMlp))
    {
        fc1 = nn.Linear(12, 32);
        fc2 = nn.Linear(hidden, 2);
        RegisterComponents();
    }

    public override Tensor forward([Shape(12)] Tensor x) => fc2.call(fc1.call(x).relu());
}

/// <summary>Runs, but its declarations are wrong: the return shape and the explained layer's input shape.</summary>
[ExplainLayer("fc", Shape = new[] { 10 })]
public sealed class WrongDeclarations : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(12, 4);

    public WrongDeclarations() : base(nameof(WrongDeclarations)) => RegisterComponents();

    [return: Shape(5)]
    public override Tensor forward([Shape(3, 4)] Tensor x) => fc.call(x.flatten(1));
}

/// <summary>Self-attention with a wrong key size: the 3-D matmul aborts the process instead of throwing.</summary>
public sealed class AbortingAttention : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> query = nn.Linear(16, 16), key = nn.Linear(16, 32);

    public AbortingAttention() : base(nameof(AbortingAttention)) => RegisterComponents();

    public override Tensor forward([Shape(64, 16)] Tensor x) => torch.matmul(query.call(x), key.call(x));
}
