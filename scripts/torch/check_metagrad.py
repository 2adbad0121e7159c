"""mkdt's exact meta-gradient against PyTorch's create_graph unroll.

Usage: /usr/bin/python3 scripts/torch/check_metagrad.py DIR
where DIR was written by `./mkdt check metagrad --export DIR`. Runs the same N SGD steps in
float64 with create_graph=True (autograd through the whole unroll: the naive meta-gradient,
independent of mkdt's recompute sweep), then compares L, dL/dimages, dL/dtargets and dL/dalpha
with every result_*.safetensors in DIR: relative max-norm error <= 1e-10 for float64 results,
<= 1e-4 for float32 ones. Exit 0 when all agree, 1 when one does not, 2 on unusable input.
"""
import glob
import json
import os
import sys

import torch
from torch.nn.utils import stateless

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkdt_torch import ConvNet, load, split  # noqa: E402

TOLERANCE = {"float64": 1e-10, "float32": 1e-4}


def unroll(problem, meta):
    """L and its gradients in images, targets and alpha, by autograd through all N steps."""
    spec = json.loads(meta["net"])
    net = ConvNet(spec["in_channels"], spec["image_size"], spec["width"], spec["depth"], spec["out_dim"],
                  eps=spec["instance_norm_eps"]).double()
    images = torch.tensor(problem["images"], requires_grad=True)
    targets = torch.tensor(problem["targets"], requires_grad=True)
    alpha = torch.tensor(float(problem["alpha"][0]), dtype=torch.float64, requires_grad=True)
    theta0 = torch.tensor(problem["theta0"])
    theta_star = torch.tensor(problem["theta_star"])
    theta = theta0.clone().requires_grad_(True)
    for row in problem["batches"]:
        idx = torch.tensor(row[row >= 0], dtype=torch.long)
        out = stateless.functional_call(net, split(theta, net), (images[idx],))
        inner = ((out - targets[idx]) ** 2).mean()
        (g,) = torch.autograd.grad(inner, theta, create_graph=True)
        theta = theta - alpha * g
    loss = ((theta - theta_star) ** 2).sum() / ((theta0 - theta_star) ** 2).sum()
    d_images, d_targets, d_alpha = torch.autograd.grad(loss, [images, targets, alpha])
    return {"loss": loss.detach().reshape(1), "d_images": d_images, "d_targets": d_targets, "d_alpha": d_alpha.reshape(1)}


def relative_error(a, b):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape:
        return float("inf")
    scale = max(a.abs().max().item(), b.abs().max().item())
    return 0.0 if scale == 0 else (a - b).abs().max().item() / scale


def main(argv):
    if len(argv) != 2:
        print("usage: check_metagrad.py DIR (written by ./mkdt check metagrad --export DIR)", file=sys.stderr)
        return 2
    folder = argv[1]
    problem_file = os.path.join(folder, "problem.safetensors")
    results = sorted(glob.glob(os.path.join(folder, "result_*.safetensors")))
    if not os.path.isfile(problem_file) or not results:
        print(f"check_metagrad: {folder}: no problem.safetensors and result_*.safetensors (run ./mkdt check metagrad --export {folder})",
              file=sys.stderr)
        return 2
    problem, meta = load(problem_file)
    torch_result = unroll(problem, meta)
    steps = len(problem["batches"])
    print(f"PyTorch {torch.__version__} float64 create_graph unroll, N = {steps}: L = {torch_result['loss'].item():.15e}")
    print(f"{'mkdt result':32} {'loss':>10} {'d_images':>10} {'d_targets':>10} {'d_alpha':>10}  tolerance")
    ok = True
    for path in results:
        arrays, rmeta = load(path)
        tol = TOLERANCE[rmeta["dtype"]]
        errors = [relative_error(arrays[k], torch_result[k]) for k in ("loss", "d_images", "d_targets", "d_alpha")]
        passed = all(e <= tol for e in errors)
        ok &= passed
        label = f"{rmeta['backend']} {rmeta['dtype']}"
        print(f"{label:32} " + " ".join(f"{e:10.2e}" for e in errors) + f"  {tol:.0e} {'ok' if passed else 'FAIL'}")
    print("mkdt's meta-gradient equals PyTorch's" if ok else "MKDT'S META-GRADIENT DIFFERS FROM PYTORCH'S")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
