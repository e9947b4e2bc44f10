using System;
using System.Linq;
using System.Reflection;
using ShapGen.Benchmarks;

// Usage: ShapGen.Benchmarks <name|all|list> [--device cpu|cuda] [--quick] [benchmark-specific options]
// Every benchmark prints one JSON line per case, with its baselines measured in the same process.
var benchmarks = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

var options = BenchmarkOptions.Parse(args.Skip(1).ToArray());
string which = args.Length > 0 ? args[0] : "list";
if (which == "list")
{
    foreach (var b in benchmarks) Console.WriteLine($"{b.Name,-12} {b.Description}");
    return 0;
}
var selected = benchmarks.Where(b => which == "all" || string.Equals(b.Name, which, StringComparison.OrdinalIgnoreCase)).ToList();
if (selected.Count == 0)
{
    Console.Error.WriteLine($"No benchmark named '{which}'. Known: {string.Join(", ", benchmarks.Select(b => b.Name))}.");
    return 2;
}
foreach (var b in selected) b.Run(options);
return 0;
