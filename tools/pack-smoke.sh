#!/usr/bin/env bash
# The packages as users get them: packs ShapGen and ShapGen.Onnx (warning-free) into a temporary folder, creates a
# console app outside the repository that references ShapGen.Onnx from that folder (ShapGen, its generator and its
# build step come with it) plus the Linux CPU backend, builds it (no NU1xxx restore warnings) and runs a tiny
# explanation (generated typed explainer, exact expected-gradients check on a linear model, a PNG, KernelSHAP on the
# binary-MNIST ONNX model when ../shared has it). Then builds the app without a native backend and checks that ShapGen
# names the package to add. Prints PASS or FAIL; exits non-zero on failure. Offline: packages come from the NuGet
# cache and the machine's configured feed, plus the local folder.
#   tools/pack-smoke.sh [--sizes]     # --sizes also reports bin/ and linux-x64 publish sizes (slower, ~1 GB disk)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
sizes=false; [ "${1:-}" = "--sizes" ] && sizes=true
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
work=$(mktemp -d -t shapgen-pack-smoke-XXXXXX)
# A version of its own, so that no earlier pack in the NuGet cache is used; removed from the cache at the end.
version="0.1.0-smoke.$(date +%Y%m%d%H%M%S)"
cache=${NUGET_PACKAGES:-$HOME/.nuget/packages}
cleanup() {
  rm -rf "$work" "$cache/shapgen/$version" "$cache/shapgen.onnx/$version"
  rmdir "$cache/shapgen" "$cache/shapgen.onnx" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "pack-smoke: FAIL: $*"; exit 1; }
step() { echo "pack-smoke: $*"; }

step "packing $version"
for project in src/ShapGen src/ShapGen.Onnx; do
  dotnet pack "$project" -c Release -p:PackageVersion="$version" -o "$work/feed" > "$work/pack.log" 2>&1 \
    || { tail -30 "$work/pack.log"; fail "dotnet pack $project"; }
  if grep -E "warning [A-Z]+[0-9]+" "$work/pack.log"; then fail "dotnet pack $project warns"; fi
done
for p in ShapGen ShapGen.Onnx; do
  [ -f "$work/feed/$p.$version.nupkg" ] && [ -f "$work/feed/$p.$version.snupkg" ] || fail "$p: no .nupkg and .snupkg"
  unzip -l "$work/feed/$p.$version.nupkg" > "$work/$p.files"
  grep -q " README.md$" "$work/$p.files" || fail "$p: no README.md in the package"
  grep -q " LICENSE$" "$work/$p.files" || fail "$p: no LICENSE in the package"
done
grep -q "analyzers/dotnet/cs/ShapGen.Generators.dll" "$work/ShapGen.files" || fail "ShapGen: no generator"

app="$work/app"
mkdir -p "$app"
cat > "$app/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="shapgen-smoke" value="$work/feed" />
  </packageSources>
</configuration>
EOF
cat > "$app/Smoke.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <!-- With the ONNX model copied in, the typed ONNX class (TypedOnnx.cs) is compiled from its signature too. -->
    <DefineConstants Condition="Exists('models/binary-mnist.onnx')">\$(DefineConstants);TYPED_ONNX</DefineConstants>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="ShapGen.Onnx" Version="$version" />
    <PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" Condition="'\$(NoBackend)' != 'true'" />
  </ItemGroup>
</Project>
EOF
cat > "$app/Program.cs" <<'EOF'
using System;
using System.IO;
using System.Linq;
using ShapGen;
using TorchSharp;
using static TorchSharp.torch;

if (args.Length > 0 && args[0] == "--expect-missing-backend")
{
    try { _ = new ExplainableModel(x => x[0], 1); }   // ShapGen's first touch of TorchSharp
    catch (InvalidOperationException e) when (e.Message.Contains("dotnet add package TorchSharp-cpu", StringComparison.Ordinal))
    {
        Console.WriteLine("missing backend reported: " + e.Message);
        return 0;
    }
    Console.WriteLine("no error, although the app references no native backend");
    return 1;
}

NativeBackend.EnsureLoaded();
torch.manual_seed(0);
var model = new Net();
model.eval();
var background = zeros(1, 1, 4, 4);
var images = rand(2, 1, 4, 4);
using var explainer = new Net.GradientExplainer(model, new Net.Batch(background));
using var result = explainer.Explain(new Net.Batch(images), new GradientExplainOptions { NSamples = 20, Seed = 0 });
// A linear model and one reference row: expected gradients are exact, Σ attributions = f(x) − f(0) per label.
Tensor gap;
using (no_grad()) gap = model.call(images) - model.call(background);
double worst = 0;
foreach (var label in Enum.GetValues<Answer>())
{
    var sums = result[label].Image.sum(new long[] { 1, 2, 3 });
    worst = Math.Max(worst, (sums - gap[.., (int)label]).abs().max().item<float>());
}
Console.WriteLine($"additivity gap {worst:E2}");
if (worst > 1e-4) return 1;

string png = Path.Combine(Path.GetTempPath(), $"shapgen-smoke-{Environment.ProcessId}.png");
ImagePlot.Save(png, result.ForInput(Net.Input.Image), images);
bool isPng = File.ReadAllBytes(png).Take(4).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' });
File.Delete(png);
Console.WriteLine($"png written: {isPng}");
if (!isPng) return 1;

if (args.Length > 0 && File.Exists(args[0]))
{
    var digit = zeros(28, 28, 1);
    digit[7..21, 10..18] = tensor(255f);
    var options = new KernelImageOptions { Kernel = { NSamples = 100, Seed = 1 }, AxisLabels = new[] { "height", "width", "channels" } };
    using var onnx = ShapGen.OnnxExplain.ExplainImage(args[0], digit, new[] { 0, 1 }, options);
    Console.WriteLine($"onnx segments: {onnx.SegmentCount}");
    if (onnx.SegmentCount < 2) return 1;
#if TYPED_ONNX
    if (!TypedOnnx.Run(args[0])) return 1;
#endif
}
Console.WriteLine("SMOKE OK");
return 0;

public enum Answer { No, Yes }

[Explainable(Labels = typeof(Answer))]
public sealed partial class Net : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> output = nn.Linear(16, 2);

    public Net() : base(nameof(Net)) => RegisterComponents();

    [return: Shape(2)]
    public override Tensor forward([Shape(1, 4, 4)] Tensor image) => output.call(image.flatten(1));
}
EOF

onnx="$root/../shared/data/binary-mnist-model.onnx"
if [ -f "$onnx" ]; then
  # A typed ONNX class: the packed build step must extract the model's signature (default *.onnx glob) for the generator.
  mkdir -p "$app/models" && cp "$onnx" "$app/models/binary-mnist.onnx"
  cat > "$app/TypedOnnx.cs" <<'EOF'
using System;
using System.Linq;
using ShapGen;
using static TorchSharp.torch;

[ExplainableOnnx("models/binary-mnist.onnx", Labels = new[] { "digit 0", "digit 1" })]
public partial class BinaryMnist { }

public static class TypedOnnx
{
    public static bool Run(string path)
    {
        using var model = BinaryMnist.Load(path);
        using var explainer = new BinaryMnist.KernelExplainer(model, new BinaryMnist.Batch(zeros(1, 1, 28, 28)));
        using var result = explainer.Explain(new BinaryMnist.Batch(ones(1, 1, 28, 28).mul(255)),
            new KernelExplainOptions { NSamples = 50, Seed = 0, FeatureGroups = new KernelFeatureGroups(4, Enumerable.Range(0, 784).Select(i => i / 392 * 2 + i % 28 / 14).ToArray()) });
        double sum = result[BinaryMnist.Label.digit_1].InputTensor.sum().item<float>();
        Console.WriteLine($"typed onnx: digit 1 attribution sum {sum:F3}");
        return !double.IsNaN(sum);
    }
}
EOF
fi

step "building a consumer app in $app"
(cd "$app" && dotnet build -c Release > "$work/build.log" 2>&1) || { grep -E "error|warning" "$work/build.log" | sort -u | head -30; fail "consumer build"; }
if grep -E "warning NU[0-9]+" "$work/build.log" | sort -u; then fail "restore warns the consumer (see above)"; fi
grep -E "ShapGen: native fix" "$work/build.log" | sort -u || true

step "running it"
(cd "$app" && dotnet bin/Release/net10.0/Smoke.dll "$onnx") | tee "$work/run.log" || fail "consumer run"
grep -q "SMOKE OK" "$work/run.log" || fail "consumer run did not finish"
if [ -f "$onnx" ]; then grep -q "typed onnx:" "$work/run.log" || fail "the typed ONNX class did not run"; fi

step "building and running it without a native backend"
cp -r "$app" "$work/nobackend" && rm -rf "$work/nobackend/bin" "$work/nobackend/obj"
(cd "$work/nobackend" && dotnet build -c Release -p:NoBackend=true > "$work/build2.log" 2>&1) || { grep -E "error" "$work/build2.log" | head; fail "build without backend"; }
grep -q "warning SHAPGEN900" "$work/build2.log" || fail "the build without a native backend did not warn SHAPGEN900"
(cd "$app" && dotnet build -c Release > "$work/build3.log" 2>&1) && ! grep -q "SHAPGEN900" "$work/build3.log" \
  || fail "the build with a native backend warned SHAPGEN900"
# An empty package folder: TorchSharp's own fallback must not find libtorch in the NuGet cache.
mkdir -p "$work/empty"
(cd "$work/nobackend" && NUGET_PACKAGES="$work/empty" dotnet bin/Release/net10.0/Smoke.dll --expect-missing-backend) | tee "$work/run2.log" \
  || fail "ShapGen did not name the missing backend"

if $sizes; then
  step "sizes"
  echo "bin/ (no RuntimeIdentifier): $(du -sh "$app/bin/Release/net10.0" | cut -f1)"
  (cd "$app" && dotnet publish -c Release -r linux-x64 --self-contained false -o "$work/publish" > "$work/publish.log" 2>&1) || fail "publish"
  echo "publish -r linux-x64 (framework-dependent): $(du -sh "$work/publish" | cut -f1)"
  (cd "$app" && dotnet build -c Release -r linux-x64 --self-contained false > "$work/build-rid.log" 2>&1) || fail "build -r linux-x64"
  echo "bin/ with RuntimeIdentifier linux-x64: $(du -sh "$app/bin/Release/net10.0/linux-x64" | cut -f1)"
  du -sh "$app/bin/Release/net10.0/runtimes"/* 2>/dev/null | sort -h | tail -12
fi
echo "pack-smoke: PASS"
