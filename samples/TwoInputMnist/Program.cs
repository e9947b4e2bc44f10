using System;
using TorchSharp;
using static TorchSharp.torch;

// Placeholder until the samples issue lands: proves the native stack runs end to end.
torch.manual_seed(0);
var model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2));
var x = randn(3, 4).requires_grad_();
var y = model.call(x);
var grad = autograd.grad(new[] { y[.., 0].sum() }, new[] { x })[0];
Console.WriteLine($"TorchSharp runs on {ShapGen.Devices.Best}; output {string.Join("x", y.shape)}, d y0/dx sum = {grad.sum().item<float>():F4}");
