using System.IO;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ShapGen.Tests.Plotting;

public sealed class LeakTests
{
    [Fact]
    public void Plotting_exporting_and_summarising_leave_no_live_tensors_behind()
    {
        var images = rand(2, 1, 8, 8);
        var values = Enumerable.Range(0, 3).Select(_ => new[] { randn(2, 1, 8, 8) }).ToArray();
        using var explanation = new Explanation(values, zeros(3), outputIndexes: tensor(new long[] { 0, 1, 2, 2, 1, 0 }, new long[] { 2, 3 }));
        string path = Path.GetTempFileName();
        try
        {
            void Work()
            {
                ImagePlot.RenderPng(explanation, 0, images);
                ExplanationSummary.Format(explanation);
                ExplanationExport.SaveNpz(explanation, path, ShapLayout.PerInput);
                ExplanationExport.SaveNpz(explanation, path, ShapLayout.LegacyPerOutput);
            }
            Work();
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            for (int i = 0; i < 5; i++) Work();
            Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        finally
        {
            File.Delete(path);
            images.Dispose();
        }
    }
}
