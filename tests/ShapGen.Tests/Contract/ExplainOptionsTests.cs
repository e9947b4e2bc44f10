using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.Extensions.Logging;
using ShapGen.Tests.Gradient;
using ShapGen.Tests.Infrastructure;
using Xunit;

namespace ShapGen.Tests.Contract;

/// <summary>Options validate where they are written, and their copy constructors copy every option.</summary>
public sealed class ExplainOptionsTests
{
    public static TheoryData<string, Action> BadValues => new()
    {
        { "RankedOutputs", () => _ = new GradientExplainOptions { RankedOutputs = 0 } },
        { "OutputRankOrder", () => _ = new DeepExplainOptions { OutputRankOrder = (OutputRankOrder)9 } },
        { "SampleIndexOffset", () => _ = new KernelExplainOptions { SampleIndexOffset = -1 } },
        { "MaxBatchRows", () => _ = new ExplainOptions { MaxBatchRows = 0 } },
        { "MemoryBudgetBytes", () => _ = new DeepExplainOptions { MemoryBudgetBytes = -5 } },
        { "NSamples", () => _ = new GradientExplainOptions { NSamples = 0 } },
        { "LocalSmoothing", () => _ = new GradientExplainOptions { LocalSmoothing = double.PositiveInfinity } },
        { "OutputMode", () => _ = new GradientExplainOptions { OutputMode = (GradientOutputMode)7 } },
        { "NSamples", () => _ = new KernelExplainOptions { NSamples = -3 } },
        { "Link", () => _ = new KernelExplainOptions { Link = (KernelLink)4 } },
        { "Kernel", () => _ = new KernelImageOptions { Kernel = null! } },
        { "Slic", () => _ = new KernelImageOptions { Slic = null! } },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void An_out_of_range_option_is_refused_by_its_setter_naming_it(string option, Action set)
    {
        var e = Assert.ThrowsAny<ArgumentException>(set);
        Assert.Equal(option, e.ParamName);
    }

    public static TheoryData<Type> OptionTypes => new()
    {
        typeof(ExplainOptions), typeof(GradientExplainOptions), typeof(DeepExplainOptions), typeof(KernelExplainOptions), typeof(KernelImageOptions),
    };

    /// <summary>Sets every public property to a value other than its default, copies, and compares: an option that a
    /// copy constructor forgets fails here, naming it.</summary>
    [Theory]
    [MemberData(nameof(OptionTypes))]
    public void The_copy_constructor_copies_every_option(Type type)
    {
        var original = Activator.CreateInstance(type)!;
        var defaults = Activator.CreateInstance(type)!;
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToArray();
        Assert.NotEmpty(properties);
        foreach (var p in properties)
        {
            var value = p.PropertyType == typeof(bool) ? !(bool)p.GetValue(defaults)! : NonDefault(p.PropertyType);
            p.SetValue(original, value);
            Assert.False(Equals(p.GetValue(defaults), value), $"{type.Name}.{p.Name}: the test value equals the default");
        }
        var copy = type.GetConstructor(new[] { type })!.Invoke(new[] { original });
        foreach (var p in properties)
        {
            object? expected = p.GetValue(original), actual = p.GetValue(copy);
            if (expected is KernelExplainOptions kernel)
            {
                Assert.NotSame(kernel, actual); // composed options are copied, not shared
                Assert.Equal(kernel.NSamples, ((KernelExplainOptions)actual!).NSamples);
                Assert.Same(kernel.Logger, ((KernelExplainOptions)actual!).Logger);
            }
            else
                Assert.True(Equals(expected, actual), $"{type.Name}.{p.Name} was not copied: {actual} instead of {expected}");
        }
    }

    private static readonly Dictionary<Type, object> Samples = new()
    {
        [typeof(int?)] = 7,
        [typeof(int)] = 7,
        [typeof(long?)] = 9L,
        [typeof(long)] = 9L,
        [typeof(double)] = 0.25,
        [typeof(double?)] = 0.25,
        [typeof(OutputRankOrder)] = OutputRankOrder.MaxAbs,
        [typeof(GradientOutputMode)] = GradientOutputMode.Replicate,
        [typeof(DeepSoftmaxRule)] = DeepSoftmaxRule.ShapElementwise,
        [typeof(LayerAttributionRule)] = LayerAttributionRule.ShapActivation,
        [typeof(GradientDraws)] = new GradientDraws(new long[,] { { 0 } }, new double[,] { { 0.5 } }),
        [typeof(KernelLink)] = KernelLink.Logit,
        [typeof(ImageLayout?)] = ImageLayout.ChannelsLast,
        [typeof(KernelRegularization)] = KernelRegularization.NumFeatures(3),
        [typeof(KernelFeatureGroups)] = new KernelFeatureGroups(1, new[] { 0 }),
        [typeof(IProgress<ExplainProgress>)] = new RecordingProgress(),
        [typeof(ILogger)] = new ListLogger(),
        [typeof(IReadOnlyList<string>)] = new[] { "channels", "height", "width" },
        [typeof(Segmentation)] = new Segmentation(new[] { 0 }, 1, 1),
        [typeof(SlicOptions)] = new SlicOptions { NSegments = 5 },
        [typeof(KernelExplainOptions)] = new KernelExplainOptions { NSamples = 5, Logger = new ListLogger() },
    };

    private static object NonDefault(Type type) =>
        Samples.TryGetValue(type, out var value) ? value : throw new InvalidOperationException($"No test value for {type}: add one.");
}
