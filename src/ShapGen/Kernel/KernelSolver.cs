using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;

namespace ShapGen;

/// <summary>
/// The constrained weighted least squares of KernelSHAP, solved for all outputs at once on the host in float64:
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
        int q = p - 1;
        // Normal equations in float64. A row of X = z_j − z_last is ±1 on a set of columns and 0 elsewhere, so
        // XᵀWX accumulates w on a block of entries: no multiplications, single-threaded and cache-friendly
        // (libtorch's threaded BLAS spent more time synchronising than computing at this size).
        var a = new double[q * q];
        var b = new double[q * k];
        var nz = new int[q];
        for (int r = 0; r < s; r++)
        {
            var mask = masks[r];
            int zl = mask[last];
            double w = weights[r];
            int count = 0;
            for (int j = 0; j < q; j++)
                if (mask[features[j]] != zl) nz[count++] = j;
            double sign = zl == 0 ? 1 : -1;
            for (int c = 0; c < k; c++)
            {
                double wy = w * sign * (eyAdj[r, outputs[c]] - zl * delta[outputs[c]]);
                for (int t = 0; t < count; t++) b[nz[t] * k + c] += wy;
            }
            for (int t = 0; t < count; t++)
            {
                int row = nz[t] * q;
                for (int u = t; u < count; u++) a[row + nz[u]] += w;
            }
        }
        for (int i = 0; i < q; i++)
            for (int j = i + 1; j < q; j++) a[j * q + i] = a[i * q + j];
        double[] solutionData = CholeskySolve(a, b, q, k) ?? MinimumNormSolve(masks, weights, eyAdj, delta, features, outputs);
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

    /// <summary>Solves A X = B for symmetric positive definite A (q×q, row-major), or returns null when A is not.</summary>
    private static double[]? CholeskySolve(double[] a, double[] b, int q, int k)
    {
        var l = new double[q * q];
        double maxDiagonal = 0;
        for (int i = 0; i < q; i++) maxDiagonal = Math.Max(maxDiagonal, a[i * q + i]);
        double tolerance = 1e-12 * Math.Max(maxDiagonal, double.Epsilon);
        for (int j = 0; j < q; j++)
        {
            double diagonal = a[j * q + j];
            for (int t = 0; t < j; t++) diagonal -= l[j * q + t] * l[j * q + t];
            if (!(diagonal > tolerance)) return null;
            double root = Math.Sqrt(diagonal);
            l[j * q + j] = root;
            for (int i = j + 1; i < q; i++)
            {
                double v = a[i * q + j];
                for (int t = 0; t < j; t++) v -= l[i * q + t] * l[j * q + t];
                l[i * q + j] = v / root;
            }
        }
        var x = (double[])b.Clone();
        for (int c = 0; c < k; c++)
        {
            for (int i = 0; i < q; i++)
            {
                double v = x[i * k + c];
                for (int t = 0; t < i; t++) v -= l[i * q + t] * x[t * k + c];
                x[i * k + c] = v / l[i * q + i];
            }
            for (int i = q - 1; i >= 0; i--)
            {
                double v = x[i * k + c];
                for (int t = i + 1; t < q; t++) v -= l[t * q + i] * x[t * k + c];
                x[i * k + c] = v / l[i * q + i];
            }
        }
        return x;
    }

    /// <summary>Singular normal equations (fewer distinct coalitions than features): minimum-norm least squares.</summary>
    private static double[] MinimumNormSolve(IReadOnlyList<byte[]> masks, IReadOnlyList<double> weights, double[,] eyAdj,
                                             double[] delta, int[] features, int[] outputs)
    {
        int s = masks.Count, q = features.Length - 1, k = outputs.Length, last = features[q];
        var xData = new double[s * q];
        var yData = new double[s * k];
        for (int r = 0; r < s; r++)
        {
            var mask = masks[r];
            double zl = mask[last], root = Math.Sqrt(weights[r]);
            for (int j = 0; j < q; j++) xData[r * q + j] = root * (mask[features[j]] - zl);
            for (int c = 0; c < k; c++) yData[r * k + c] = root * (eyAdj[r, outputs[c]] - zl * delta[outputs[c]]);
        }
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(xData, new long[] { s, q }, torch.float64);
        var y = torch.tensor(yData, new long[] { s, k }, torch.float64);
        return torch.linalg.pinv(x).matmul(y).contiguous().data<double>().ToArray();
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
