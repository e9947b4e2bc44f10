using System;
using System.IO;
using System.Linq;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.IO;

public sealed class ExplanationExportTests
{
    // 3 outputs × 2 inputs; input 0 is [N=2, 4], input 1 is [N=2, 1, 2, 3]; value = 1000·o + 100·i + flat index.
    private static Explanation Make(bool ranked = false, bool variances = false)
    {
        Tensor Value(int o, int i, double offset = 0)
        {
            long[] shape = i == 0 ? new long[] { 2, 4 } : new long[] { 2, 1, 2, 3 };
            return arange(shape.Aggregate(1L, (a, b) => a * b), dtype: float32).add(1000 * o + 100 * i + offset).reshape(shape);
        }
        var values = Enumerable.Range(0, 3).Select(o => Enumerable.Range(0, 2).Select(i => Value(o, i)).ToArray()).ToArray();
        var vars = variances ? Enumerable.Range(0, 3).Select(o => Enumerable.Range(0, 2).Select(i => Value(o, i, 0.5)).ToArray()).ToArray() : null;
        var indexes = ranked ? tensor(new long[] { 4, 0, 2, 1, 3, 0 }, new long[] { 2, 3 }) : null;
        return new Explanation(values, tensor(new[] { 0.25, 0.5, 0.75, 1.0, 1.25 }), vars, indexes,
                               new[] { "a", "b", "c", "d", "e" });
    }

    [Fact]
    public void Per_input_layout_puts_outputs_last_like_shap_0_45()
    {
        using var scope = NewDisposeScope();
        using var e = Make(variances: true);
        var arrays = ExplanationExport.ToArrays(e, ShapLayout.PerInput).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(new[] { "values_0", "variances_0", "values_1", "variances_1", "expected_values", "labels", "layout" }, arrays.Keys);
        Assert.Equal(new long[] { 2, 4, 3 }, arrays["values_0"].Shape);
        Assert.Equal(new long[] { 2, 1, 2, 3, 3 }, arrays["values_1"].Shape);
        Assert.Equal("<f4", arrays["values_1"].Descr);
        using var v1 = arrays["values_1"].ToTensor();
        using var var1 = arrays["variances_1"].ToTensor();
        var flat = v1.data<float>().ToArray();
        var vflat = var1.data<float>().ToArray();
        // Element [n, c, y, x, o] = 1000·o + 100 + (n·6 + c·6 + y·3 + x).
        for (int n = 0; n < 2; n++)
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 3; x++)
                    for (int o = 0; o < 3; o++)
                    {
                        int at = (((n * 1 + 0) * 2 + y) * 3 + x) * 3 + o;
                        Assert.Equal(1000 * o + 100 + n * 6 + y * 3 + x, flat[at]);
                        Assert.Equal(1000 * o + 100 + n * 6 + y * 3 + x + 0.5f, vflat[at]);
                    }
        Assert.Equal(new[] { "a", "b", "c", "d", "e" }, arrays["labels"].ToStrings());
        Assert.Equal(new[] { "per_input" }, arrays["layout"].ToStrings());
        using var ev = arrays["expected_values"].ToTensor();
        Assert.Equal(new[] { 0.25, 0.5, 0.75, 1.0, 1.25 }, ev.data<double>().ToArray());
    }

    [Fact]
    public void Legacy_layout_is_a_list_per_output_of_a_list_per_input()
    {
        using var scope = NewDisposeScope();
        using var e = Make(ranked: true);
        var arrays = ExplanationExport.ToArrays(e, ShapLayout.LegacyPerOutput).ToDictionary(kv => kv.Key, kv => kv.Value);
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 2; i++)
            {
                var a = arrays[$"values_{o}_{i}"];
                Assert.Equal(e[o, i].shape, a.Shape);
                Assert.Equal(e[o, i].bytes.ToArray(), a.Data);
            }
        Assert.Equal("<i8", arrays["output_indexes"].Descr);
        using var idx = arrays["output_indexes"].ToTensor();
        Assert.Equal(new long[] { 4, 0, 2, 1, 3, 0 }, idx.data<long>().ToArray());
        Assert.Equal(new[] { "legacy_per_output" }, arrays["layout"].ToStrings());
        Assert.DoesNotContain("values_0", arrays.Keys);
    }

    [Fact]
    public void Npz_file_holds_the_arrays_and_reads_back_bitwise()
    {
        using var scope = NewDisposeScope();
        using var e = Make(ranked: true, variances: true);
        string path = Path.GetTempFileName();
        try
        {
            ExplanationExport.SaveNpz(e, path, ShapLayout.LegacyPerOutput, compress: true);
            var back = Npz.LoadArrays(path);
            var expected = ExplanationExport.ToArrays(e, ShapLayout.LegacyPerOutput);
            Assert.Equal(expected.Select(kv => kv.Key).OrderBy(k => k, StringComparer.Ordinal), back.Keys.OrderBy(k => k, StringComparer.Ordinal));
            foreach (var (name, array) in expected)
            {
                Assert.Equal(array.Descr, back[name].Descr);
                Assert.Equal(array.Shape, back[name].Shape);
                Assert.Equal(array.Data, back[name].Data);
            }
            Assert.Equal(e.Variance(2, 1).bytes.ToArray(), back["variances_2_1"].Data);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(ShapLayout.PerInput)]
    [InlineData(ShapLayout.LegacyPerOutput)]
    public void Explanation_round_trips_through_npz_in_either_layout(ShapLayout layout)
    {
        using var scope = NewDisposeScope();
        using var e = Make(ranked: true, variances: true);
        string path = Path.GetTempFileName();
        try
        {
            ExplanationExport.SaveNpz(e, path, layout);
            using var back = ExplanationExport.LoadNpz(path);
            Assert.Equal(e.OutputCount, back.OutputCount);
            Assert.Equal(e.InputCount, back.InputCount);
            for (int o = 0; o < e.OutputCount; o++)
                for (int i = 0; i < e.InputCount; i++)
                {
                    Assert.Equal(e[o, i].shape, back[o, i].shape);
                    Assert.Equal(e[o, i].bytes.ToArray(), back[o, i].bytes.ToArray());
                    Assert.Equal(e.Variance(o, i).bytes.ToArray(), back.Variance(o, i).bytes.ToArray());
                }
            Assert.Equal(e.ExpectedValues.bytes.ToArray(), back.ExpectedValues.bytes.ToArray());
            Assert.Equal(e.OutputIndexes!.bytes.ToArray(), back.OutputIndexes!.bytes.ToArray());
            Assert.Equal(e.Labels, back.Labels);
            // Npz.Load gives the numeric arrays as tensors and leaves the string arrays out.
            var tensors = Npz.Load(path);
            Assert.DoesNotContain("labels", tensors.Keys);
            Assert.Contains("expected_values", tensors.Keys);
            foreach (var t in tensors.Values) t.Dispose();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(ShapLayout.LegacyPerOutput, "values_1_0", "N=3", "the attributions of output 1 to input 0 are Float32 [3, 4]")]
    [InlineData(ShapLayout.LegacyPerOutput, "values_1_1", "int", "the attributions of output 1 to input 1 are Int32 [2, 1, 2, 3]")]
    [InlineData(ShapLayout.LegacyPerOutput, "variances_0_0", "N=3", "the variances of output 0 to input 0 are Float32 [3, 4]; expected floating point [2, 4]")]
    [InlineData(ShapLayout.PerInput, "values_1", "K=2", "array 'values_1' has shape [2, 1, 2, 3, 2]")]
    [InlineData(ShapLayout.PerInput, "values_0", "text", "array 'values_0' has dtype '<U1'; expected numbers")]
    [InlineData(ShapLayout.PerInput, "expected_values", "2-d", "'expected_values' is Float32 [1, 5]")]
    [InlineData(ShapLayout.PerInput, "output_indexes", "index 7", "names an output outside 0..4")]
    [InlineData(ShapLayout.PerInput, "output_indexes", "N=3", "'output_indexes' is Int64 [3, 3]; expected integers [2, 3]")]
    [InlineData(ShapLayout.PerInput, "labels", "4 labels", "'labels' has 4 label(s); 'expected_values' has 5")]
    [InlineData(ShapLayout.PerInput, "layout", "floats", "array 'layout' has dtype '<f4'")]
    public void Arrays_that_do_not_fit_together_are_invalid_data_naming_the_array(ShapLayout layout, string name, string change, string message)
    {
        using var scope = NewDisposeScope();
        using var e = Make(ranked: true, variances: true);
        var arrays = ExplanationExport.ToArrays(e, layout).ToDictionary(kv => kv.Key, kv => kv.Value);
        long[] shape = arrays[name].Shape;
        arrays[name] = change switch
        {
            "N=3" => NpyArray.FromTensor(zeros(new[] { 3L }.Concat(shape.Skip(1)).ToArray(), dtype: name == "output_indexes" ? int64 : float32)),
            "int" => NpyArray.FromTensor(zeros(shape, dtype: int32)),
            "K=2" => NpyArray.FromTensor(zeros(shape.SkipLast(1).Append(2L).ToArray())),
            "text" => NpyArray.FromStrings(new[] { "x" }),
            "2-d" => NpyArray.FromTensor(zeros(1, 5)),
            "index 7" => NpyArray.FromTensor(tensor(new long[] { 4, 0, 2, 1, 3, 7 }, new long[] { 2, 3 })),
            "4 labels" => NpyArray.FromStrings(new[] { "a", "b", "c", "d" }),
            "floats" => NpyArray.FromTensor(zeros(1)),
            _ => throw new ArgumentOutOfRangeException(nameof(change), change, "unknown change"),
        };
        string path = Path.GetTempFileName();
        try
        {
            Npz.SaveArrays(path, arrays);
            var error = Assert.Throws<InvalidDataException>(() => ExplanationExport.LoadNpz(path));
            Assert.Contains($"'{path}'", error.Message);
            Assert.Contains(message, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
