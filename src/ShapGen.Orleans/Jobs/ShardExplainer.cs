using System;
using System.Collections.Generic;
using System.Threading;
using static TorchSharp.torch;

namespace ShapGen.ScaleOut;

/// <summary>
/// Explains one shard of rows. The global index of the shard's first row is passed in: use it as
/// <see cref="ExplainOptions.SampleIndexOffset"/> (with the job's seed) so the draws do not depend on the split.
/// </summary>
public interface IShardExplainer : IDisposable
{
    /// <summary>Explains <paramref name="rows"/> (one tensor per model input); the caller owns the result.</summary>
    Explanation Explain(Tensor[] rows, long firstRow, long seed, CancellationToken cancellationToken);
}

/// <summary>What a worker hands an explainer factory: the job and the device the worker owns.</summary>
/// <param name="Job">The job (its <see cref="ExplainJob.Options"/> and <see cref="ExplainJob.WeightsPath"/>).</param>
/// <param name="Device">The worker's device: <c>cpu</c> or <c>cuda:i</c>; build the model there.</param>
public sealed record ShardExplainerContext(ExplainJob Job, Device Device);

/// <summary>
/// The explainers a process can run, by name: factories registered in the worker's own code. Names are the only
/// thing a job sends; types and code never travel.
/// </summary>
public sealed class ShardExplainerRegistry
{
    private readonly Dictionary<string, Func<ShardExplainerContext, IShardExplainer>> _factories = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<IShardSource>> _sources = new(StringComparer.Ordinal);

    /// <summary>Registers an explainer factory under <paramref name="name"/>; it is called once per worker and job.</summary>
    public ShardExplainerRegistry Add(string name, Func<ShardExplainerContext, IShardExplainer> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        _factories[name] = factory;
        return this;
    }

    /// <summary>Registers a data set of your own under <paramref name="name"/> (<see cref="DataSource.Registered"/>).</summary>
    public ShardExplainerRegistry AddSource(string name, Func<IShardSource> open)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(open);
        _sources[name] = open;
        return this;
    }

    /// <summary>The registered data sets.</summary>
    public IReadOnlyDictionary<string, Func<IShardSource>> Sources => _sources;

    /// <summary>Creates the explainer a job names.</summary>
    /// <exception cref="ArgumentException">No factory is registered under the job's name.</exception>
    public IShardExplainer Create(ShardExplainerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return _factories.TryGetValue(context.Job.Explainer, out var factory)
            ? factory(context)
            : throw new ArgumentException(
                $"No explainer is registered under '{context.Job.Explainer}' in this worker; registered: [{string.Join(", ", _factories.Keys)}].",
                nameof(context));
    }
}

/// <summary>Shard explainers over ShapGen's engines (and any explain call, such as a generated typed explainer's).</summary>
public static class ShardExplainer
{
    /// <summary>Expected gradients: <paramref name="options"/> with the job's seed and the shard's row offset.</summary>
    public static IShardExplainer Gradient(GradientExplainer explainer, GradientExplainOptions options, IDisposable? owns = null) =>
        Create((rows, first, seed, ct) => explainer.Explain(rows, new GradientExplainOptions(options) { Seed = seed, SampleIndexOffset = first }, ct),
               owns is null ? explainer : new Both(explainer, owns));

    /// <summary>DeepLIFT-SHAP: <paramref name="options"/> with the job's seed and the shard's row offset.</summary>
    public static IShardExplainer Deep(DeepExplainer explainer, DeepExplainOptions options, IDisposable? owns = null) =>
        Create((rows, first, seed, ct) => explainer.Explain(rows, new DeepExplainOptions(options) { Seed = seed, SampleIndexOffset = first }, ct),
               owns is null ? explainer : new Both(explainer, owns));

    /// <summary>KernelSHAP: <paramref name="options"/> with the job's seed and the shard's row offset.</summary>
    public static IShardExplainer Kernel(KernelExplainer explainer, KernelExplainOptions options, IDisposable? owns = null) =>
        Create((rows, first, seed, ct) => explainer.Explain(rows, new KernelExplainOptions(options) { Seed = seed, SampleIndexOffset = first }, ct),
               owns is null ? explainer : new Both(explainer, owns));

    /// <summary>
    /// Any explain call (rows, global index of the first row, seed, token); <paramref name="owns"/> is disposed with
    /// the shard explainer (the engine, the model).
    /// </summary>
    public static IShardExplainer Create(Func<Tensor[], long, long, CancellationToken, Explanation> explain, IDisposable? owns = null)
    {
        ArgumentNullException.ThrowIfNull(explain);
        return new DelegateExplainer(explain, owns);
    }

    private sealed class DelegateExplainer(Func<Tensor[], long, long, CancellationToken, Explanation> explain, IDisposable? owns) : IShardExplainer
    {
        public Explanation Explain(Tensor[] rows, long firstRow, long seed, CancellationToken cancellationToken) =>
            explain(rows, firstRow, seed, cancellationToken);

        public void Dispose() => owns?.Dispose();
    }

    private sealed class Both(IDisposable first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
