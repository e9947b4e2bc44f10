using System;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Gradient;

/// <summary>Each bad input gives a clear exception naming it, and the explainer stays usable afterwards.</summary>
public sealed class GradientBadInputTests : IDisposable
{
    private readonly DisposeScope _scope = NewDisposeScope();
    private readonly ExplainableModel _model;
    private readonly Tensor _flat, _image;
    private readonly GradientExplainer _explainer;

    public GradientBadInputTests()
    {
        // Two inputs: [3] and [2, 2]; output [N, 2].
        _model = new ExplainableModel(x => cat(new[] { x[0], x[1].flatten(1) }, 1).matmul(ones(7, 2, dtype: float64)), 2);
        _flat = randn(4, 3, dtype: float64);
        _image = randn(4, 2, 2, dtype: float64);
        _explainer = new GradientExplainer(_model, new[] { _flat, _image }, inputNames: new[] { "flat", "image" });
    }

    public void Dispose()
    {
        _explainer.Dispose();
        _scope.Dispose();
    }

    private void StillWorks()
    {
        using var result = _explainer.Explain(new[] { _flat, _image }, new GradientExplainOptions { NSamples = 3, Seed = 1 });
        Assert.Equal(_image.shape, result[1, 1].shape);
    }

    private T Throws<T>(Func<object?> call) where T : Exception
    {
        var e = Assert.Throws<T>(() => { call(); });
        StillWorks();
        return e;
    }

    [Fact]
    public void Wrong_input_count_names_the_counts()
    {
        var e = Throws<ArgumentException>(() => _explainer.Explain(new[] { _flat }));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("takes 2 input(s)", e.Message);
        Assert.Contains("has 1 tensor(s)", e.Message);
    }

    [Fact]
    public void Wrong_per_sample_shape_names_the_input_and_both_shapes()
    {
        var e = Throws<ArgumentException>(() => _explainer.Explain(new[] { _flat, randn(4, 2, 3, dtype: float64) }));
        Assert.Contains("input 1 ('image')", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("expected [2, 2]", e.Message);
    }

    [Fact]
    public void Wrong_dtype_names_both_dtypes()
    {
        var e = Throws<ArgumentException>(() => _explainer.Explain(new[] { _flat.to_type(float32), _image }));
        Assert.Contains("input 0 ('flat')", e.Message);
        Assert.Contains("Float32", e.Message);
        Assert.Contains("Float64", e.Message);
    }

    [Fact]
    public void Nan_and_infinity_in_inputs_are_rejected()
    {
        var nan = _flat.clone(); nan[1, 2] = tensor(double.NaN);
        var e = Throws<ArgumentException>(() => _explainer.Explain(new[] { nan, _image }));
        Assert.Contains("NaN or infinite", e.Message);
        var inf = _image.clone(); inf[0, 0, 1] = tensor(double.PositiveInfinity);
        e = Throws<ArgumentException>(() => _explainer.Explain(new[] { _flat, inf }));
        Assert.Contains("input 1 ('image')", e.Message);
    }

    [Fact]
    public void Nan_in_background_and_empty_background_are_rejected()
    {
        var nan = _flat.clone(); nan[0, 0] = tensor(double.NaN);
        var e = Assert.Throws<ArgumentException>(() => new GradientExplainer(_model, new[] { nan, _image }));
        Assert.Equal("background", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => new GradientExplainer(_model, new[] { _flat.narrow(0, 0, 0), _image.narrow(0, 0, 0) }));
        Assert.Contains("0 rows", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Nsamples_below_one_names_the_option(int nsamples)
    {
        var e = Throws<ArgumentOutOfRangeException>(() => _explainer.Explain(new[] { _flat, _image }, new GradientExplainOptions { NSamples = nsamples }));
        Assert.Equal("NSamples", e.ParamName);
    }

    [Fact]
    public void Other_options_out_of_range_name_the_option()
    {
        Assert.Equal("RankedOutputs", Throws<ArgumentOutOfRangeException>(() =>
            _explainer.Explain(new[] { _flat, _image }, new GradientExplainOptions { RankedOutputs = 3 })).ParamName);
        Assert.Equal("LocalSmoothing", Throws<ArgumentOutOfRangeException>(() =>
            _explainer.Explain(new[] { _flat, _image }, new GradientExplainOptions { LocalSmoothing = -0.1 })).ParamName);
        Assert.Equal("LocalSmoothing", Throws<ArgumentOutOfRangeException>(() =>
            _explainer.Explain(new[] { _flat, _image }, new GradientExplainOptions { LocalSmoothing = double.NaN })).ParamName);
        Assert.Equal("MaxBatchRows", Throws<ArgumentOutOfRangeException>(() =>
            _explainer.Explain(new[] { _flat, _image }, new GradientExplainOptions { MaxBatchRows = 0 })).ParamName);
    }

    [Fact]
    public void Inputs_on_another_device_than_the_model_are_rejected()
    {
        using var scope = NewDisposeScope();
        var net = new SmallMlp(3, 4, 2);
        var model = ExplainableModel.Create(net);
        using var explainer = new GradientExplainer(model, new[] { randn(5, 3, dtype: float64) });
        var elsewhere = empty(new long[] { 2, 3 }, dtype: float64, device: META);
        var e = Assert.Throws<ArgumentException>(() => explainer.Explain(new[] { elsewhere }));
        Assert.Contains("is on meta", e.Message);
        Assert.Contains("the model is on cpu", e.Message);
    }

    [Fact]
    public void A_disposed_input_is_rejected()
    {
        var gone = _flat.clone();
        gone.Dispose();
        Throws<ObjectDisposedException>(() => _explainer.Explain(new[] { gone, _image }));
    }

    [Fact]
    public void Unknown_layer_lists_the_known_paths()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new SmallMlp(3, 4, 2));
        var e = Assert.Throws<ArgumentException>(() => new GradientExplainer(model, new[] { randn(5, 3, dtype: float64) }, layer: "tail"));
        Assert.Equal("layer", e.ParamName);
        Assert.Contains("'tail'", e.Message);
        Assert.Contains("head", e.Message);
        Assert.EndsWith("Known paths: body, head. (Parameter 'layer')", e.Message); // once, and not 'path' as well
        var plain = Assert.Throws<ArgumentException>(() => new GradientExplainer(_model, new[] { _flat, _image }, layer: "head"));
        Assert.Contains("plain function", plain.Message);
    }

    [Fact]
    public void A_layer_invoked_with_forward_instead_of_call_is_reported()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new ForwardCallingNet());
        var e = Assert.Throws<InvalidOperationException>(() => new GradientExplainer(model, new[] { randn(5, 3) }, layer: "inner"));
        Assert.Contains("not invoked", e.Message);
        Assert.Contains(".call", e.Message);
    }

    [Fact]
    public void A_layer_invoked_twice_is_reported()
    {
        using var scope = NewDisposeScope();
        var model = ExplainableModel.Create(new TwiceCallingNet());
        var e = Assert.Throws<InvalidOperationException>(() => new GradientExplainer(model, new[] { randn(5, 3) }, layer: "inner"));
        Assert.Contains("invoked 2 times", e.Message);
        // The hook was removed: the model still runs normally.
        Assert.Equal(new long[] { 2, 3 }, model.Forward(randn(2, 3)).shape);
    }

    [Fact]
    public void A_disposed_explainer_throws_object_disposed()
    {
        var explainer = new GradientExplainer(_model, new[] { _flat, _image });
        explainer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => explainer.Explain(new[] { _flat, _image }));
    }

    private sealed class TwiceCallingNet : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> inner = nn.Linear(3, 3);
        public TwiceCallingNet() : base(nameof(TwiceCallingNet)) => RegisterComponents();
        public override Tensor forward(Tensor x) => inner.call(inner.call(x));
    }

    private sealed class ForwardCallingNet : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> inner = nn.Linear(3, 2);
        public ForwardCallingNet() : base(nameof(ForwardCallingNet)) => RegisterComponents();
        public override Tensor forward(Tensor x) => inner.forward(x);
    }
}
