using System;
using System.Collections.Generic;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;

namespace ShapGen;

/// <summary>
/// Least-angle regression (Efron et al. 2004), plain and with the lasso modification, for KernelSHAP's feature
/// selection: the semantics of scikit-learn's <c>lars_path</c> and <c>LassoLarsIC</c> that shap relies on.
/// </summary>
internal static class Lars
{
    private const double Tiny = 1e-12;

    /// <summary>The features active after <paramref name="steps"/> LAR steps, in entry order (<c>lars_path(max_iter=k)</c>).</summary>
    public static int[] ActiveAfter(double[,] x, double[] y, int steps)
    {
        var path = Path(x, y, lasso: false, maxSteps: steps);
        return path[^1].Active;
    }

    /// <summary>
    /// The non-zero features of the lasso path step with the smallest AIC (or BIC), after scaling columns to unit
    /// standard deviation and centering (<c>make_pipeline(StandardScaler(with_mean=False), LassoLarsIC(c))</c>).
    /// </summary>
    public static int[] InformationCriterionSelect(double[,] x, double[] y, bool bic)
    {
        int n = x.GetLength(0), p = x.GetLength(1);
        var xs = new double[n, p];
        for (int j = 0; j < p; j++)
        {
            double mean = 0;
            for (int i = 0; i < n; i++) mean += x[i, j];
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++) var += (x[i, j] - mean) * (x[i, j] - mean);
            double sd = Math.Sqrt(var / n);
            if (sd < 10 * double.Epsilon) sd = 1;
            double scaledMean = mean / sd;
            for (int i = 0; i < n; i++) xs[i, j] = x[i, j] / sd - scaledMean;
        }
        double ym = y.Average();
        var yc = y.Select(v => v - ym).ToArray();

        if (n <= p + 1)
            throw new InvalidOperationException(
                $"AIC/BIC feature selection needs more regression rows than features + 1 ({n} ≤ {p + 1}): raise NSamples or use another L1Reg.");
        var xm = Matrix<double>.Build.DenseOfArray(xs);
        var yv = Vector<double>.Build.Dense(yc);
        var ols = xm.PseudoInverse() * yv;
        var residual = yv - xm * ols;
        double noise = residual.DotProduct(residual) / (n - p - 1);
        if (noise <= 0) noise = double.Epsilon;

        var path = Path(xs, yc, lasso: true, maxSteps: 500);
        double factor = bic ? Math.Log(n) : 2.0;
        double best = double.PositiveInfinity;
        int[] chosen = Array.Empty<int>();
        foreach (var step in path)
        {
            double rss = 0;
            for (int i = 0; i < n; i++)
            {
                double fit = 0;
                for (int j = 0; j < p; j++)
                    if (step.Coef[j] != 0) fit += xs[i, j] * step.Coef[j];
                rss += (yc[i] - fit) * (yc[i] - fit);
            }
            int df = step.Coef.Count(c => Math.Abs(c) > double.Epsilon);
            double criterion = n * Math.Log(2 * Math.PI * noise) + rss / noise + factor * df;
            if (criterion < best)
            {
                best = criterion;
                chosen = Enumerable.Range(0, p).Where(j => step.Coef[j] != 0).ToArray();
            }
        }
        return chosen;
    }

    internal sealed record Step(double[] Coef, int[] Active);

    internal static List<Step> Path(double[,] x, double[] y, bool lasso, int maxSteps)
    {
        int n = x.GetLength(0), p = x.GetLength(1);
        var beta = new double[p];
        var c = new double[p];
        for (int j = 0; j < p; j++)
            for (int i = 0; i < n; i++) c[j] += x[i, j] * y[i];
        var active = new List<int>();
        var isActive = new bool[p];
        var path = new List<Step> { new((double[])beta.Clone(), Array.Empty<int>()) };
        int dropped = -1;
        int maxActive = Math.Min(n, p);
        for (int iteration = 0; iteration < maxSteps; iteration++)
        {
            double bigC = 0;
            int best = -1;
            for (int j = 0; j < p; j++)
                if (!isActive[j] && Math.Abs(c[j]) > bigC) { bigC = Math.Abs(c[j]); best = j; }
            foreach (int j in active) bigC = Math.Max(bigC, Math.Abs(c[j]));
            if (bigC < Tiny) break;
            if (dropped < 0)
            {
                if (active.Count >= maxActive || best < 0) break;
                active.Add(best);
                isActive[best] = true;
            }
            dropped = -1;

            int q = active.Count;
            var signs = active.Select(j => Math.Sign(c[j]) == 0 ? 1.0 : Math.Sign(c[j])).ToArray();
            var g = Matrix<double>.Build.Dense(q, q);
            for (int a = 0; a < q; a++)
                for (int b = a; b < q; b++)
                {
                    double v = 0;
                    for (int i = 0; i < n; i++) v += x[i, active[a]] * x[i, active[b]];
                    g[a, b] = g[b, a] = v * signs[a] * signs[b];
                }
            Vector<double> gi;
            try
            {
                gi = g.Cholesky().Solve(Vector<double>.Build.Dense(q, 1.0));
            }
            catch (ArgumentException)
            {
                break; // collinear active set: the path ends here
            }
            double norm = gi.Sum();
            if (!(norm > 0)) break;
            double aa = 1 / Math.Sqrt(norm);
            var direction = new double[p];
            for (int a = 0; a < q; a++) direction[active[a]] = aa * gi[a] * signs[a];
            var u = new double[n];
            for (int i = 0; i < n; i++)
            {
                double v = 0;
                foreach (int j in active) v += x[i, j] * direction[j];
                u[i] = v;
            }
            var corr = new double[p];
            for (int j = 0; j < p; j++)
            {
                double v = 0;
                for (int i = 0; i < n; i++) v += x[i, j] * u[i];
                corr[j] = v;
            }
            double gamma = bigC / aa;
            for (int j = 0; j < p; j++)
            {
                if (isActive[j]) continue;
                double g1 = (bigC - c[j]) / (aa - corr[j]);
                double g2 = (bigC + c[j]) / (aa + corr[j]);
                if (g1 > Tiny && g1 < gamma) gamma = g1;
                if (g2 > Tiny && g2 < gamma) gamma = g2;
            }
            if (lasso)
            {
                foreach (int j in active)
                {
                    if (direction[j] == 0) continue;
                    double t = -beta[j] / direction[j];
                    if (t > Tiny && t < gamma) { gamma = t; dropped = j; }
                }
            }
            for (int j = 0; j < p; j++)
            {
                beta[j] += gamma * direction[j];
                c[j] -= gamma * corr[j];
            }
            if (dropped >= 0)
            {
                beta[dropped] = 0;
                active.Remove(dropped);
                isActive[dropped] = false;
            }
            path.Add(new((double[])beta.Clone(), active.ToArray()));
            if (!lasso && active.Count >= maxSteps) break;
        }
        return path;
    }
}
