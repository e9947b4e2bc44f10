using System;
using System.Collections.Generic;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;

namespace ShapGen;

/// <summary>
/// The constrained weighted least squares of KernelSHAP, solved for all outputs at once on the host (MathNet):
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
        var x = Matrix<double>.Build.Dense(s, p - 1);
        var wx = Matrix<double>.Build.Dense(s, p - 1);
        var y = Matrix<double>.Build.Dense(s, k);
        for (int r = 0; r < s; r++)
        {
            var mask = masks[r];
            double zl = mask[last], w = weights[r];
            for (int j = 0; j < p - 1; j++)
            {
                double v = mask[features[j]] - zl;
                x[r, j] = v;
                wx[r, j] = w * v;
            }
            for (int c = 0; c < k; c++) y[r, c] = eyAdj[r, outputs[c]] - zl * delta[outputs[c]];
        }
        var a = x.TransposeThisAndMultiply(wx);
        var b = wx.TransposeThisAndMultiply(y);
        Matrix<double> solution;
        try
        {
            solution = a.Cholesky().Solve(b);
            if (!AllFinite(solution)) throw new ArgumentException("not finite");
        }
        catch (ArgumentException)
        {
            // Singular normal equations (fewer distinct coalitions than features): minimum-norm least squares.
            var sw = Matrix<double>.Build.Dense(s, p - 1);
            var sy = Matrix<double>.Build.Dense(s, k);
            for (int r = 0; r < s; r++)
            {
                double root = Math.Sqrt(weights[r]);
                for (int j = 0; j < p - 1; j++) sw[r, j] = root * x[r, j];
                for (int c = 0; c < k; c++) sy[r, c] = root * y[r, c];
            }
            solution = sw.PseudoInverse() * sy;
        }
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

    private static bool AllFinite(Matrix<double> m)
    {
        foreach (double v in m.Enumerate())
            if (!double.IsFinite(v)) return false;
        return true;
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
