using System;

namespace ShapGen;

/// <summary>Points α on [0, 1] and weights of the integrated-gradients rules, in double precision.</summary>
internal static class IntegrationRule
{
    /// <summary>The nodes (ascending) and weights of <paramref name="method"/> with <paramref name="steps"/> points.</summary>
    public static (double[] Alphas, double[] Weights) For(IntegrationMethod method, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var alphas = new double[steps];
        var weights = new double[steps];
        if (method == IntegrationMethod.GaussLegendre)
            return GaussLegendre(steps);
        if (method == IntegrationMethod.RiemannTrapezoid)
        {
            if (steps < 2)
                throw new ArgumentOutOfRangeException(nameof(IntegratedGradientsOptions.NSteps), steps,
                    "NSteps must be at least 2 for the trapezoid rule (it uses both ends of the path).");
            for (int j = 0; j < steps; j++)
            {
                alphas[j] = (double)j / (steps - 1);
                weights[j] = (j == 0 || j == steps - 1 ? 0.5 : 1.0) / (steps - 1);
            }
            return (alphas, weights);
        }
        double shift = method switch
        {
            IntegrationMethod.RiemannLeft => 0,
            IntegrationMethod.RiemannRight => 1,
            IntegrationMethod.RiemannMiddle => 0.5,
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown integration method."),
        };
        for (int j = 0; j < steps; j++)
        {
            alphas[j] = (j + shift) / steps;
            weights[j] = 1.0 / steps;
        }
        return (alphas, weights);
    }

    /// <summary>Gauss–Legendre nodes by Newton's method on P_n, mapped from [−1, 1] to [0, 1] (weights halved).</summary>
    private static (double[] Alphas, double[] Weights) GaussLegendre(int n)
    {
        var alphas = new double[n];
        var weights = new double[n];
        for (int i = 0; i < (n + 1) / 2; i++)
        {
            double z = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5)), derivative = 0;
            for (int iteration = 0; iteration < 100; iteration++)
            {
                double p = 1, previous = 0;
                for (int j = 1; j <= n; j++)
                {
                    double older = previous;
                    previous = p;
                    p = ((2.0 * j - 1) * z * previous - (j - 1.0) * older) / j;
                }
                derivative = n * (z * p - previous) / (z * z - 1);
                double step = p / derivative;
                z -= step;
                if (Math.Abs(step) <= 1e-16) break;
            }
            double w = 2 / ((1 - z * z) * derivative * derivative);
            // Node i is the i-th largest root; place it and its mirror in ascending order.
            alphas[n - 1 - i] = 0.5 * (1 + z);
            alphas[i] = 0.5 * (1 - z);
            weights[n - 1 - i] = weights[i] = 0.5 * w;
        }
        return (alphas, weights);
    }
}
