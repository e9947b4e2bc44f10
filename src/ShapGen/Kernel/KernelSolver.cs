using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;

namespace ShapGen;

/// <summary>
/// The constrained weighted least squares of KernelSHAP, solved for all outputs at once on the host (libtorch, float64):
/// the efficiency constraint Σφ = link(f(x)) − link(E f) is enforced exactly by eliminating the last selected
/// feature, as shap does.
/// </summary>
internal static class KernelSolver
{
    /// <param name="masks">[S][M] 0/1 coalitions.</param>
    /// <param name="weights">[S] kernel weights.</param>
    /// <param name="eyAdj">[S, K] link(E f(coalition)) − link(E f(background)).</param>
    /// <param name="delta">[K] link(f(x)) − link(E f(background)).</param>
    /// <param name="regularization">Feature selection.</param>
    /// <param name="fractionEvaluated">Fraction of the coalition space evaluated (for "auto").</param>
    /// <returns>φ as [M, K].</returns>
    public static double[,] Solve(IReadOnlyList<byte[]> masks, IReadOnlyList<double> weights, double[,] eyAdj, double[] delta,
                                  KernelRegularization regularization, double fractionEvaluated)
    {
        int s = masks.Count, m = masks[0].Length, k = delta.Length;
        var phi = new double[m, k];
        bool select = regularization.Kind switch
        {
            KernelRegularizationKind.Off => false,
            KernelRegularizationKind.Auto => fractionEvaluated < 0.2,
            _ => true,
        };
        if (!select)
        {
            SolveSubset(masks, weights, eyAdj, delta, Enumerable.Range(0, m).ToArray(), Enumerable.Range(0, k).ToArray(), phi);
            return phi;
        }
        for (int d = 0; d < k; d++)
        {
            var active = Select(masks, weights, eyAdj, delta, d, regularization);
            if (active.Length == 0) continue;
            SolveSubset(masks, weights, eyAdj, delta, active, new[] { d }, phi);
        }
        return phi;
    }

    private static void SolveSubset(IReadOnlyList<byte[]> masks, IReadOnlyList<double> weights, double[,] eyAdj, double[] delta,
                                    int[] features, int[] outputs, double[,] phi)
    {
        int s = masks.Count, p = features.Length, k = outputs.Length;
        int last = features[p - 1];
        if (p == 1)
        {
            foreach (int d in outputs) phi[last, d] = delta[d];
            return;
        }
        // libtorch's BLAS/LAPACK on the host in float64: the normal equations cost S·p² and dominate otherwise.
        var xData = new double[s * (p - 1)];
        var yData = new double[s * k];
        for (int r = 0; r < s; r++)
        {
            var mask = masks[r];
            double zl = mask[last];
            for (int j = 0; j < p - 1; j++) xData[r * (p - 1) + j] = mask[features[j]] - zl;
            for (int c = 0; c < k; c++) yData[r * k + c] = eyAdj[r, outputs[c]] - zl * delta[outputs[c]];
        }
        double[] solutionData;
        using (var scope = torch.NewDisposeScope())
        {
            var x = torch.tensor(xData, new long[] { s, p - 1 }, torch.float64);
            var y = torch.tensor(yData, new long[] { s, k }, torch.float64);
            var w = torch.tensor(weights.ToArray(), new long[] { s, 1 }, torch.float64);
            var wx = x * w;
            var a = x.t().matmul(wx);
            var b = wx.t().matmul(y);
            torch.Tensor solved;
            var (l, info) = torch.linalg.cholesky_ex(a);
            if (info.item<int>() == 0)
            {
                solved = torch.cholesky_solve(b, l);
            }
            else
            {
                // Singular normal equations (fewer distinct coalitions than features): minimum-norm least squares.
                var root = w.sqrt();
                solved = torch.linalg.pinv(x * root).matmul(y * root);
            }
            solutionData = solved.contiguous().data<double>().ToArray();
        }
        if (solutionData.Any(v => !double.IsFinite(v)))
            throw new InvalidOperationException("The KernelSHAP regression gave non-finite values; the model outputs may be degenerate.");
        var solution = new double[p - 1, k];
        for (int j = 0; j < p - 1; j++)
            for (int c = 0; c < k; c++) solution[j, c] = solutionData[j * k + c];
        for (int c = 0; c < k; c++)
        {
            int d = outputs[c];
            double sum = 0;
            for (int j = 0; j < p - 1; j++)
            {
                phi[features[j], d] = solution[j, c];
                sum += solution[j, c];
            }
            phi[last, d] = delta[d] - sum;
        }
    }

    /// <summary>shap's augmented problem for feature selection, then LARS (num_features) or LassoLarsIC (aic/bic).</summary>
    private static int[] Select(IReadOnlyList<byte[]> masks, IReadOnlyList<double> weights, double[,] eyAdj, double[] delta,
                                int d, KernelRegularization regularization)
    {
        int s = masks.Count, m = masks[0].Length;
        var xa = new double[2 * s, m];
        var ya = new double[2 * s];
        for (int r = 0; r < s; r++)
        {
            int count = 0;
            foreach (byte b in masks[r]) count += b;
            double w1 = Math.Sqrt(weights[r] * (m - count)), w2 = Math.Sqrt(weights[r] * count);
            ya[r] = w1 * eyAdj[r, d];
            ya[s + r] = w2 * (eyAdj[r, d] - delta[d]);
            for (int j = 0; j < m; j++)
            {
                xa[r, j] = w1 * masks[r][j];
                xa[s + r, j] = w2 * (masks[r][j] - 1.0);
            }
        }
        return regularization.Kind == KernelRegularizationKind.NumFeatures
            ? Lars.ActiveAfter(xa, ya, regularization.Count)
            : Lars.InformationCriterionSelect(xa, ya, regularization.Kind == KernelRegularizationKind.Bic);
    }
}
