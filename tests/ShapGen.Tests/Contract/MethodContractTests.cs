using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ShapGen.Tests.Gradient;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Contract;

/// <summary>
/// The engine contract for Captum's methods, which take baselines instead of a background: bad options and inputs get
/// the same clear errors, cancellation stops before the next batch, progress reaches Done == Total once, no tensors leak.
/// </summary>
[Collection(EngineContractCollection.Name)]
public sealed class MethodContractTests
{
    public static TheoryData<string> Methods => new()
    {
        "Saliency", "InputXGradient", "IntegratedGradients", "DeepLift", "LayerIntegratedGradients", "LayerConductance",
    };

    /// <summary>Linear(4, 5) → ReLU → Linear(5, 3) in float64, optionally with log(x₀ + 10) added (NaN where x₀ &lt; −10).</summary>
    private sealed class ContractNet : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> body;
        private readonly bool _log;

        public ContractNet(bool log = false) : base(nameof(ContractNet))
        {
            torch.manual_seed(17);
            body = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3));
            RegisterComponents();
            this.to(float64);
            _log = log;
        }

        public override Tensor forward(Tensor x)
        {
            var y = body.call(x);
            return _log ? y + (x.narrow(1, 0, 1) + 10).log() : y;
        }
    }

    /// <summary>Each method behind one face: explain with options configured by the test; layer methods hook "body.1".</summary>
    private sealed class Method : IDisposable
    {
        private readonly IDisposable? _hook;
        private readonly Func<Tensor[], Action<ExplainOptions>?, CancellationToken, Explanation> _explain;

        private Method(IDisposable? hook, Func<Tensor[], Action<ExplainOptions>?, CancellationToken, Explanation> explain) =>
            (_hook, _explain) = (hook, explain);

        public static Method Create(string name, ExplainableModel model)
        {
            switch (name)
            {
                case "Saliency":
                {
                    var e = new Saliency(model);
                    return new Method(null, (x, c, ct) => e.Explain(x, Configure(new SaliencyOptions(), c), ct));
                }
                case "InputXGradient":
                {
                    var e = new InputXGradient(model);
                    return new Method(null, (x, c, ct) => e.Explain(x, Configure(new GradientMethodOptions(), c), ct));
                }
                case "IntegratedGradients":
                {
                    var e = new IntegratedGradients(model);
                    return new Method(null, (x, c, ct) => e.Explain(x, null, Configure(new IntegratedGradientsOptions { NSteps = 8 }, c), ct));
                }
                case "DeepLift":
                {
                    var e = new DeepLift(model);
                    return new Method(null, (x, c, ct) => e.Explain(x, null, Configure(new DeepExplainOptions(), c), ct));
                }
                case "LayerIntegratedGradients":
                {
                    var e = new LayerIntegratedGradients(model, "body.1");
                    return new Method(e, (x, c, ct) => e.Explain(x, null, Configure(new IntegratedGradientsOptions { NSteps = 8 }, c), ct));
                }
                case "LayerConductance":
                {
                    var e = new LayerConductance(model, "body.1");
                    return new Method(e, (x, c, ct) => e.Explain(x, null, Configure(new LayerConductanceOptions { NSteps = 8 }, c), ct));
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown method.");
            }
        }

        private static T Configure<T>(T options, Action<ExplainOptions>? configure) where T : ExplainOptions
        {
            configure?.Invoke(options);
            return options;
        }

        public Explanation Explain(Tensor[] x, Action<ExplainOptions>? configure = null, CancellationToken ct = default) => _explain(x, configure, ct);

        public void Dispose() => _hook?.Dispose();
    }

    private static Tensor Data(long seed, long rows)
    {
        using var g = new Generator((ulong)seed);
        return randn(new[] { rows, 4L }, dtype: float64, generator: g).DetachFromDisposeScope();
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Ranked_outputs_beyond_the_output_count_name_the_option(string method)
    {
        using var scope = NewDisposeScope();
        using var explainer = Method.Create(method, ExplainableModel.Create(new ContractNet()));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => explainer.Explain(new[] { Data(2, 3) }, o => o.RankedOutputs = 4));
        Assert.Equal("RankedOutputs", e.ParamName);
        Assert.Contains("between 1 and the model's 3 outputs; it is 4", e.Message);
        using var ranked = explainer.Explain(new[] { Data(2, 3) }, o => o.RankedOutputs = 2);
        Assert.Equal(2, ranked.OutputCount);
        Assert.Equal(new long[] { 3, 2 }, ranked.OutputIndexes!.shape);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Nan_model_outputs_on_the_explained_rows_are_refused_naming_the_row(string method)
    {
        using var scope = NewDisposeScope();
        using var explainer = Method.Create(method, ExplainableModel.Create(new ContractNet(log: true)));
        var x = Data(2, 3);
        x[2, 0] = tensor(-20.0, float64);
        var e = Assert.Throws<ArgumentException>(() => explainer.Explain(new[] { x }));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("'inputs' row 2", e.Message);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void A_cancelled_token_stops_before_any_work_and_cancelling_midway_stops_after_the_current_batch(string method)
    {
        using var scope = NewDisposeScope();
        using var explainer = Method.Create(method, ExplainableModel.Create(new ContractNet()));
        var x = Data(2, 5);
        var before = new RecordingProgress();
        Assert.ThrowsAny<OperationCanceledException>(() => explainer.Explain(new[] { x }, o => o.Progress = before, new CancellationToken(true)));
        Assert.Empty(before.Reports);

        using var cts = new CancellationTokenSource();
        int afterCancel = 0;
        var midway = new RecordingProgress(_ =>
        {
            if (cts.IsCancellationRequested) afterCancel++;
            cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            explainer.Explain(new[] { x }, o => { o.Progress = midway; o.MaxBatchRows = 2; }, cts.Token));
        Assert.Single(midway.Reports);
        Assert.Equal(0, afterCancel);
        using var after = explainer.Explain(new[] { x });
        Assert.Equal(5, after[0, 0].shape[0]);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Progress_rises_and_reaches_done_equals_total_exactly_once(string method)
    {
        using var scope = NewDisposeScope();
        using var explainer = Method.Create(method, ExplainableModel.Create(new ContractNet()));
        foreach (int? rows in new int?[] { null, 3 })
        {
            var progress = new RecordingProgress();
            using (explainer.Explain(new[] { Data(2, 5) }, o => { o.Progress = progress; o.MaxBatchRows = rows; })) { }
            ContractAssert.ProgressRisesToDoneOnce(progress.Reports);
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Repeated_calls_leave_no_live_tensors_behind(string method)
    {
        var x = Data(2, 5);
        using var explainer = Method.Create(method, ExplainableModel.Create(new ContractNet()));
        void Once()
        {
            using var result = explainer.Explain(new[] { x }, o => { o.MaxBatchRows = 3; o.RankedOutputs = 2; });
        }
        ContractAssert.LeavesNoLiveTensors(method, Once);
        x.Dispose();
    }
}
