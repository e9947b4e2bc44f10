using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ShapGen.Tests.Gradient;
using ShapGen.Tests.Infrastructure;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Contract;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EngineContractCollection
{
    public const string Name = "Engine contract (sequential: counts live tensors)";
}

/// <summary>
/// One contract, run over every engine: bad input gets the same clear error from each, cancellation, progress,
/// no tensor leaks, threads, and draws keyed by the global sample index.
/// </summary>
[Collection(EngineContractCollection.Name)]
public sealed class EngineContractTests
{
    public static TheoryData<string> Engines => new() { "Gradient", "Deep", "Kernel" };

    public static TheoryData<string> DrawingEngines => new() { "Gradient", "Kernel" };

    /// <summary>Linear(4, 5) → ReLU → Linear(5, 3) in float64, optionally with log(x₀ + 10) added (NaN where
    /// x₀ &lt; −10) or its output detached from autograd.</summary>
    private sealed class ContractNet : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> body;
        private readonly bool _log, _detach;

        public ContractNet(bool log = false, bool detach = false) : base(nameof(ContractNet))
        {
            torch.manual_seed(17);
            body = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3));
            RegisterComponents();
            this.to(float64);
            (_log, _detach) = (log, detach);
        }

        public override Tensor forward(Tensor x)
        {
            var y = body.call(x);
            if (_log) y = y + (x.narrow(1, 0, 1) + 10).log();
            return _detach ? y.detach() : y;
        }
    }

    /// <summary>The three engines behind one face, so that one test covers each.</summary>
    private sealed class Engine : IDisposable
    {
        private readonly IDisposable _engine;
        private readonly Func<Tensor[], Action<ExplainOptions>?, CancellationToken, Explanation> _explain;

        private Engine(IDisposable engine, Func<Tensor[], Action<ExplainOptions>?, CancellationToken, Explanation> explain) =>
            (_engine, _explain) = (engine, explain);

        public static Engine Create(string name, ExplainableModel model, Tensor[] background, IReadOnlyList<string>? labels = null)
        {
            switch (name)
            {
                case "Gradient":
                {
                    var e = new GradientExplainer(model, background, labels: labels);
                    return new Engine(e, (x, configure, ct) => e.Explain(x, Configure(new GradientExplainOptions { NSamples = 16, Seed = 3 }, configure), ct));
                }
                case "Deep":
                {
                    var e = new DeepExplainer(model, background, labels: labels);
                    return new Engine(e, (x, configure, ct) => e.Explain(x, Configure(new DeepExplainOptions(), configure), ct));
                }
                case "Kernel":
                {
                    var e = new KernelExplainer(model, background, labels: labels);
                    return new Engine(e, (x, configure, ct) => e.Explain(x, Configure(new KernelExplainOptions { NSamples = 10, Seed = 3 }, configure), ct));
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown engine.");
            }
        }

        private static T Configure<T>(T options, Action<ExplainOptions>? configure) where T : ExplainOptions
        {
            configure?.Invoke(options);
            return options;
        }

        public Tensor ExpectedValues => _engine switch
        {
            GradientExplainer g => g.ExpectedValues,
            DeepExplainer d => d.ExpectedValues,
            KernelExplainer k => k.ExpectedValues,
            _ => throw new InvalidOperationException(),
        };

        public Explanation Explain(Tensor[] x, Action<ExplainOptions>? configure = null, CancellationToken ct = default) =>
            _explain(x, configure, ct);

        public void Dispose() => _engine.Dispose();
    }

    private static Tensor Data(long seed, long rows)
    {
        using var g = new Generator((ulong)seed);
        return randn(new[] { rows, 4L }, dtype: float64, generator: g).DetachFromDisposeScope();
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Wrong_label_count_is_refused_naming_both_counts(string engine)
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() =>
            Engine.Create(engine, ExplainableModel.Create(new ContractNet()), new[] { Data(1, 6) }, new[] { "a", "b" }));
        Assert.Equal("labels", e.ParamName);
        Assert.Contains("2 names", e.Message);
        Assert.Contains("3 outputs", e.Message);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void A_background_of_another_dtype_than_the_model_names_which_is_which(string engine)
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() =>
            Engine.Create(engine, ExplainableModel.Create(new ContractNet()), new[] { Data(1, 6).to_type(float32) }));
        Assert.Equal("background", e.ParamName);
        Assert.Contains("'background' input 0 is Float32 but the model's parameters are Float64", e.Message);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Inputs_of_another_dtype_than_the_background_name_both(string engine)
    {
        using var scope = NewDisposeScope();
        using var explainer = Engine.Create(engine, ExplainableModel.Create(new ContractNet()), new[] { Data(1, 6) });
        var e = Assert.Throws<ArgumentException>(() => explainer.Explain(new[] { Data(2, 3).to_type(float32) }));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("'inputs' input 0 is Float32; the background is Float64", e.Message);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Ranked_outputs_beyond_the_output_count_name_the_option(string engine)
    {
        using var scope = NewDisposeScope();
        using var explainer = Engine.Create(engine, ExplainableModel.Create(new ContractNet()), new[] { Data(1, 6) });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => explainer.Explain(new[] { Data(2, 3) }, o => o.RankedOutputs = 4));
        Assert.Equal("RankedOutputs", e.ParamName);
        Assert.Contains("between 1 and the model's 3 outputs; it is 4", e.Message);
        using var ranked = explainer.Explain(new[] { Data(2, 3) }, o => o.RankedOutputs = 2);
        Assert.Equal(2, ranked.OutputCount);
        Assert.Equal(new long[] { 3, 2 }, ranked.OutputIndexes!.shape);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Nan_model_outputs_on_the_background_are_refused_naming_the_row(string engine)
    {
        using var scope = NewDisposeScope();
        var background = Data(1, 6);
        background[4, 0] = tensor(-20.0, float64); // log(−10) = NaN in row 4 only
        var e = Assert.Throws<ArgumentException>(() =>
        {
            using var explainer = Engine.Create(engine, ExplainableModel.Create(new ContractNet(log: true)), new[] { background });
            _ = explainer.ExpectedValues; // GradientExplainer evaluates the background lazily
        });
        Assert.Equal("background", e.ParamName);
        Assert.Contains("NaN", e.Message);
        Assert.Contains("'background' row 4", e.Message);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Nan_model_outputs_on_the_explained_rows_are_refused_naming_the_row(string engine)
    {
        using var scope = NewDisposeScope();
        using var explainer = Engine.Create(engine, ExplainableModel.Create(new ContractNet(log: true)), new[] { Data(1, 6) });
        var x = Data(2, 3);
        x[2, 0] = tensor(-20.0, float64);
        var e = Assert.Throws<ArgumentException>(() => explainer.Explain(new[] { x }));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("'inputs' row 2", e.Message);
        if (engine == "Deep") return; // the log is invisible to DeepLIFT: its additivity check would fail on finite rows
        using var fine = explainer.Explain(new[] { Data(2, 3) });
        Assert.Equal(3, fine.OutputCount);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void An_output_detached_from_its_inputs_is_an_error_for_gradient_engines_and_fine_for_kernelshap(string engine)
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new ContractNet(detach: true));
        var background = Data(1, 6);
        using var explainer = Engine.Create(engine, model, new[] { background });
        var x = Data(2, 3);
        if (engine == "Kernel")
        {
            using var result = explainer.Explain(new[] { x }, o => o.Seed = 1);
            Tensor fx;
            using (no_grad()) fx = model.Forward(x);
            var totals = stack(Enumerable.Range(0, 3).Select(o => result[o, 0].sum(1)).ToArray(), 1);
            TensorAssert.Close(fx - explainer.ExpectedValues, totals, rtol: 1e-9, atol: 1e-9, what: "KernelSHAP additivity");
            return;
        }
        var e = Assert.Throws<InvalidOperationException>(() => explainer.Explain(new[] { x }));
        Assert.Contains("detached", e.Message);
        Assert.Contains("does not require grad", e.Message);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void A_cancelled_token_stops_before_any_work_and_cancelling_midway_stops_after_the_current_batch(string engine)
    {
        using var scope = NewDisposeScope();
        using var explainer = Engine.Create(engine, ExplainableModel.Create(new ContractNet()), new[] { Data(1, 6) });
        _ = explainer.ExpectedValues;
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
            explainer.Explain(new[] { x }, o => { o.Progress = midway; o.MaxBatchRows = 6; }, cts.Token));
        Assert.Single(midway.Reports);
        Assert.Equal(0, afterCancel);
        using var after = explainer.Explain(new[] { x });
        Assert.Equal(x.shape, after[0, 0].shape);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Progress_rises_and_reaches_done_equals_total_exactly_once(string engine)
    {
        using var scope = NewDisposeScope();
        using var explainer = Engine.Create(engine, ExplainableModel.Create(new ContractNet()), new[] { Data(1, 6) });
        foreach (int? rows in new int?[] { null, 7 })
        {
            var progress = new RecordingProgress();
            using (explainer.Explain(new[] { Data(2, 5) }, o => { o.Progress = progress; o.MaxBatchRows = rows; })) { }
            ContractAssert.ProgressRisesToDoneOnce(progress.Reports);
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Repeated_calls_leave_no_live_tensors_behind(string engine)
    {
        var background = Data(1, 6);
        var x = Data(2, 5);
        using var explainer = Engine.Create(engine, ExplainableModel.Create(new ContractNet()), new[] { background });
        void Once()
        {
            using var result = explainer.Explain(new[] { x }, o => { o.MaxBatchRows = 7; o.RankedOutputs = 2; });
        }
        ContractAssert.LeavesNoLiveTensors(engine, Once);
        background.Dispose(); x.Dispose();
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Two_explainers_on_one_model_on_two_threads_equal_the_sequential_results(string engine)
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new ContractNet());
        var (bgA, bgB, xA, xB) = (Data(1, 6), Data(2, 5), Data(3, 4), Data(4, 3));
        using var a = Engine.Create(engine, model, new[] { bgA });
        using var b = Engine.Create(engine, model, new[] { bgB });
        Tensor Run(Engine e, Tensor x)
        {
            using var r = e.Explain(new[] { x }, o => o.MaxBatchRows = 9);
            return r.ToShapLayout(0).DetachFromDisposeScope();
        }
        var (seqA, seqB) = (Run(a, xA), Run(b, xB));
        Tensor? parA = null, parB = null;
        using (var start = new Barrier(2))
            await Task.WhenAll(
                Task.Run(() => { start.SignalAndWait(); for (int i = 0; i < 3; i++) parA = Run(a, xA); }),
                Task.Run(() => { start.SignalAndWait(); for (int i = 0; i < 3; i++) parB = Run(b, xB); }));
        TensorAssert.Equal(seqA, parA!, "first explainer");
        TensorAssert.Equal(seqB, parB!, "second explainer");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Rows_split_over_two_calls_with_a_sample_index_offset_equal_one_call_bitwise(string engine)
    {
        using var scope = NewDisposeScope();
        using var explainer = Engine.Create(engine, ExplainableModel.Create(new ContractNet()), new[] { Data(1, 6) });
        var x = Data(2, 10);
        foreach (int? rows in new int?[] { null, 48 })
        {
            using var whole = explainer.Explain(new[] { x }, o => { o.Seed = 11; o.MaxBatchRows = rows; });
            using var first = explainer.Explain(new[] { x.narrow(0, 0, 5) }, o => { o.Seed = 11; o.MaxBatchRows = rows; });
            using var second = explainer.Explain(new[] { x.narrow(0, 5, 5) }, o => { o.Seed = 11; o.MaxBatchRows = rows; o.SampleIndexOffset = 5; });
            for (int o = 0; o < 3; o++)
                TensorAssert.Equal(whole[o, 0], cat(new[] { first[o, 0], second[o, 0] }, 0), $"{engine}, output {o}, MaxBatchRows {rows}");
        }
    }

    [Theory]
    [MemberData(nameof(DrawingEngines))]
    public void Without_the_offset_a_second_shard_draws_other_values(string engine)
    {
        using var scope = NewDisposeScope();
        using var explainer = Engine.Create(engine, ExplainableModel.Create(new ContractNet()), new[] { Data(1, 6) });
        var x = Data(2, 10);
        using var whole = explainer.Explain(new[] { x }, o => o.Seed = 11);
        using var second = explainer.Explain(new[] { x.narrow(0, 5, 5) }, o => o.Seed = 11);
        Assert.False(whole[0, 0].narrow(0, 5, 5).equal(second[0, 0]).all().item<bool>(), "the offset must matter: draws are keyed by the global index");
    }
}
