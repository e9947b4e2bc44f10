using System;
using System.Collections.Generic;
using System.Linq;

namespace ShapGen;

/// <summary>
/// A hierarchy of features for the <see cref="Partition"/> explainer (shap's <c>clustering</c>): leaves 0..M−1 are the
/// features, internal nodes M, M+1, … each join two or more earlier nodes, and the last node is the root. Build it from
/// a scipy-style linkage matrix, as a flat hierarchy (all features under the root: Owen values are then exact Shapley
/// values), or let the explainer split an image's grid as shap's image masker does.
/// </summary>
public sealed class PartitionTree
{
    /// <summary>Largest number of children of one node: expanding a node evaluates 2^k − 2 coalitions.</summary>
    public const int MaxChildren = 16;

    private readonly int[][] _children; // per internal node (id − M)
    private readonly int[][] _leaves;   // per node, the leaves under it

    private PartitionTree(int features, int[][] children)
    {
        FeatureCount = features;
        _children = children;
        _leaves = new int[features + children.Length][];
        for (int f = 0; f < features; f++) _leaves[f] = new[] { f };
        for (int i = 0; i < children.Length; i++) _leaves[features + i] = children[i].SelectMany(c => _leaves[c]).ToArray();
    }

    /// <summary>Features (leaves) M.</summary>
    public int FeatureCount { get; }

    /// <summary>Nodes in all: leaves and internal nodes.</summary>
    public int NodeCount => FeatureCount + _children.Length;

    /// <summary>The root's id (the last node).</summary>
    public int Root => NodeCount - 1;

    /// <summary>The children of node <paramref name="node"/> (empty for a leaf).</summary>
    public IReadOnlyList<int> Children(int node) => node < FeatureCount ? Array.Empty<int>() : _children[node - FeatureCount];

    /// <summary>The features under node <paramref name="node"/>.</summary>
    public IReadOnlyList<int> Leaves(int node) => _leaves[node];

    /// <summary>
    /// From a scipy linkage matrix [M − 1, 4] (<c>scipy.cluster.hierarchy.linkage</c>, as shap's <c>clustering</c>):
    /// row i joins nodes Z[i, 0] and Z[i, 1] into node M + i; Z[i, 2] (distance) is not used; Z[i, 3] (size), when
    /// positive, must equal the number of features under the new node.
    /// </summary>
    /// <param name="linkage">The linkage matrix, at least one row.</param>
    public static PartitionTree FromLinkage(double[,] linkage)
    {
        ArgumentNullException.ThrowIfNull(linkage);
        int rows = linkage.GetLength(0);
        if (rows < 1 || linkage.GetLength(1) != 4)
            throw new ArgumentException($"A linkage matrix is [M − 1, 4] with at least one row; this one is [{rows}, {linkage.GetLength(1)}].", nameof(linkage));
        int m = rows + 1;
        var used = new bool[m + rows];
        var children = new int[rows][];
        var sizes = new int[m + rows];
        for (int f = 0; f < m; f++) sizes[f] = 1;
        for (int i = 0; i < rows; i++)
        {
            var pair = new int[2];
            for (int side = 0; side < 2; side++)
            {
                double v = linkage[i, side];
                if (v != Math.Floor(v) || v < 0 || v >= m + i)
                    throw new ArgumentException(
                        $"Linkage row {i} joins node {v}; it may join only a feature 0..{m - 1} or an earlier row's node {m}..{m + i - 1}.", nameof(linkage));
                int node = (int)v;
                if (used[node]) throw new ArgumentException($"Linkage row {i} joins node {node}, which an earlier row already joined.", nameof(linkage));
                used[node] = true;
                pair[side] = node;
            }
            sizes[m + i] = sizes[pair[0]] + sizes[pair[1]];
            if (linkage[i, 3] > 0 && linkage[i, 3] != sizes[m + i])
                throw new ArgumentException($"Linkage row {i} gives size {linkage[i, 3]}; its nodes hold {sizes[m + i]} features.", nameof(linkage));
            children[i] = pair;
        }
        return new PartitionTree(m, children);
    }

    /// <summary>All <paramref name="features"/> directly under the root: the Partition explainer then gives exact Shapley values.</summary>
    /// <param name="features">Features M, 2..<see cref="MaxChildren"/>.</param>
    public static PartitionTree Flat(int features)
    {
        if (features < 2 || features > MaxChildren)
            throw new ArgumentOutOfRangeException(nameof(features), features, $"A flat hierarchy has 2..{MaxChildren} features (its root evaluates 2^M − 2 coalitions).");
        return new PartitionTree(features, new[] { Enumerable.Range(0, features).ToArray() });
    }

    /// <summary>
    /// shap's image partition (<c>maskers.Image</c>'s <c>_jit_build_partition_tree</c>) over a grid of up to three axes
    /// (x, y, z in priority order): a box splits its x range at the midpoint when x is at least as wide as y and wider
    /// than 1, else y when wider than 1, else z. <paramref name="elementOf"/> maps grid coordinates to the feature index.
    /// </summary>
    internal static PartitionTree Grid(long[] widths, Func<long, long, long, int> elementOf)
    {
        long features = widths.Aggregate(1L, (a, b) => a * b);
        var children = new List<int[]>();
        int Build(long x0, long x1, long y0, long y1, long z0, long z1)
        {
            long wx = x1 - x0, wy = y1 - y0, wz = z1 - z0;
            if (wx == 1 && wy == 1 && wz == 1) return elementOf(x0, y0, z0);
            int left, right;
            if (wx >= wy && wx > 1)
            {
                long mid = x0 + wx / 2;
                (left, right) = (Build(x0, mid, y0, y1, z0, z1), Build(mid, x1, y0, y1, z0, z1));
            }
            else if (wy > 1)
            {
                long mid = y0 + wy / 2;
                (left, right) = (Build(x0, x1, y0, mid, z0, z1), Build(x0, x1, mid, y1, z0, z1));
            }
            else
            {
                long mid = z0 + wz / 2;
                (left, right) = (Build(x0, x1, y0, y1, z0, mid), Build(x0, x1, y0, y1, mid, z1));
            }
            children.Add(new[] { left, right });
            return (int)features + children.Count - 1;
        }
        Build(0, widths[0], 0, widths[1], 0, widths[2]);
        return new PartitionTree((int)features, children.ToArray());
    }
}
