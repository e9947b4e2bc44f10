using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Perturbation;

public sealed class PerturbationOptionsTests
{
    public static TheoryData<Type> OptionTypes => new()
    {
        typeof(PerturbationOptions), typeof(FeatureAblationOptions), typeof(OcclusionOptions), typeof(ShapleyValueSamplingOptions),
        typeof(RiseOptions), typeof(LimeOptions), typeof(PartitionOptions),
    };

    /// <summary>Values other than every default, per property type (two for types whose first value is some option's default).</summary>
    private static readonly Dictionary<Type, object[]> Values = new()
    {
        [typeof(int)] = new object[] { 3, 4 },
        [typeof(int?)] = new object[] { 3 },
        [typeof(long)] = new object[] { 9L },
        [typeof(long?)] = new object[] { 9L },
        [typeof(double)] = new object[] { 0.125, 0.375 },
        [typeof(double?)] = new object[] { 0.125 },
        [typeof(OutputRankOrder)] = new object[] { OutputRankOrder.MaxAbs },
        [typeof(ImageLayout)] = new object[] { ImageLayout.ChannelsLast },
        [typeof((int, int)?)] = new object[] { ((int, int)?)(3, 5) },
        [typeof(KernelFeatureGroups)] = new object[] { new KernelFeatureGroups(1, new[] { 0 }) },
        [typeof(IReadOnlyList<KernelFeatureGroups>)] = new object[] { new[] { new KernelFeatureGroups(1, new[] { 0 }) } },
        [typeof(IReadOnlyList<long[]>)] = new object[] { new[] { new long[] { 1 } } },
        [typeof(IReadOnlyList<Tensor>)] = new object[] { Array.Empty<Tensor>() },
        [typeof(PartitionTree)] = new object[] { PartitionTree.Flat(2) },
        [typeof(IProgress<ExplainProgress>)] = new object[] { new Progress<ExplainProgress>() },
        [typeof(Microsoft.Extensions.Logging.ILogger)] = new object[] { Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance },
    };

    /// <summary>Sets every public property to a value other than its default, copies, and compares: an option a copy constructor forgets fails here.</summary>
    [Theory]
    [MemberData(nameof(OptionTypes))]
    public void The_copy_constructor_copies_every_option(Type type)
    {
        var original = Activator.CreateInstance(type)!;
        var defaults = Activator.CreateInstance(type)!;
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToArray();
        foreach (var p in properties)
        {
            object? value = p.PropertyType == typeof(bool)
                ? !(bool)p.GetValue(defaults)!
                : Assert.Contains(p.PropertyType, (IDictionary<Type, object[]>)Values).FirstOrDefault(v => !Equals(v, p.GetValue(defaults)));
            Assert.True(value is not null, $"{type.Name}.{p.Name}: no test value differs from the default");
            p.SetValue(original, value);
        }
        var copy = type.GetConstructor(new[] { type })!.Invoke(new[] { original });
        foreach (var p in properties)
            Assert.True(Equals(p.GetValue(original), p.GetValue(copy)), $"{type.Name}.{p.Name} was not copied");
    }
}
