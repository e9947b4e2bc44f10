namespace ShapGen.Generators.Model;

/// <summary>
/// A set of explanation methods, with the bit values of the runtime's <c>ShapGen.ExplainMethods</c> (the generator
/// cannot reference the runtime assembly, so the values are repeated here; a test checks they agree).
/// </summary>
internal readonly record struct MethodSet(int Bits)
{
    public const int GradientExplainer = 1 << 0;
    public const int DeepExplainer = 1 << 1;
    public const int KernelExplainer = 1 << 2;
    public const int Saliency = 1 << 3;
    public const int InputXGradient = 1 << 4;
    public const int IntegratedGradients = 1 << 5;
    public const int DeepLift = 1 << 6;
    public const int FeatureAblation = 1 << 7;
    public const int Occlusion = 1 << 8;
    public const int ShapleyValueSampling = 1 << 9;
    public const int Rise = 1 << 10;
    public const int Lime = 1 << 11;
    public const int Partition = 1 << 12;
    public const int AllInputMethods = (1 << 13) - 1;
    public const int LayerGradientExplainer = 1 << 16;
    public const int LayerIntegratedGradients = 1 << 17;
    public const int LayerConductance = 1 << 18;
    public const int GradCam = 1 << 19;
    public const int AllLayerMethods = LayerGradientExplainer | LayerIntegratedGradients | LayerConductance | GradCam;

    public bool Has(int method) => (Bits & method) == method;

    public MethodSet Without(int method) => new(Bits & ~method);
}
