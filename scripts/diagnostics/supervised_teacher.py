"""Diagnostic only (labels used): a supervised ConvNet-3 teacher on Fashion-MNIST, written as an
mkdt run's teacher artefacts, to ask whether knowledge distillation from a *good* teacher can
beat no pre-training at all (precondition G2). Needs Debian's python3-torch; the product does not.

usage: /usr/bin/python3 scripts/diagnostics/supervised_teacher.py RUN_DIR EPOCHS LIMIT flat|pooled [TRAIN_IMAGES]
  RUN_DIR: runs/NAME (created first), LIMIT: the run's data.limit (rows of teacher.safetensors).
then:  ./mkdt eval --preset demo --set name=NAME --set data.limit=LIMIT --rows teacher,none,full ...
"""
import gzip, json, struct, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

run_dir, epochs, limit, rep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]  # rep: flat | pooled
train_n = int(sys.argv[5]) if len(sys.argv) > 5 else 60000
torch.manual_seed(0); torch.set_num_threads(2)
root = "/usr/share/datasets/fashion-mnist/"
def idx(name):
    b = gzip.open(root + name).read()
    if b[2] == 8 and b[3] == 3:
        n, h, w = struct.unpack(">III", b[4:16]); return np.frombuffer(b[16:], np.uint8).reshape(n, h, w)
    n, = struct.unpack(">I", b[4:8]); return np.frombuffer(b[8:], np.uint8)
xtr = np.pad(idx("train-images-idx3-ubyte.gz"), ((0, 0), (2, 2), (2, 2))).astype(np.float32) / 255
ytr = idx("train-labels-idx1-ubyte.gz").astype(np.int64)
mean, std = xtr.mean(), xtr.std()
x = torch.from_numpy((xtr - mean) / std)[:, None]
y = torch.from_numpy(ytr)

class ConvNet(nn.Module):
    def __init__(s, w=128):
        super().__init__()
        s.blocks = nn.ModuleList()
        c = 1
        for _ in range(3):
            s.blocks.append(nn.ModuleList([nn.Conv2d(c, w, 3, padding=1), nn.GroupNorm(w, w, affine=True)])); c = w
        s.head = nn.Linear(w * 16, 1)  # mkdt's teacher ConvNet has a 1-d head it never uses
    def features(s, x, rep):
        for conv, norm in s.blocks:
            x = F.avg_pool2d(F.relu(norm(conv(x))), 2)
        return x.mean((2, 3)) if rep == "pooled" else x.flatten(1)

net = ConvNet(); clf = nn.Linear(128 if rep == "pooled" else 2048, 10)
opt = torch.optim.SGD(list(net.parameters()) + list(clf.parameters()), lr=0.01, momentum=0.9, weight_decay=1e-4)
t0 = time.time()
for ep in range(epochs):
    perm = torch.randperm(len(x))[:train_n]
    for i in range(0, len(perm) - 255, 256):
        b = perm[i:i + 256]
        loss = F.cross_entropy(clf(net.features(x[b], rep)), y[b])
        opt.zero_grad(); loss.backward(); opt.step()
    print(f"epoch {ep + 1}: loss {loss.item():.3f} ({time.time() - t0:.0f} s)", flush=True)
with torch.no_grad():
    reps = torch.cat([net.features(x[i:i + 512], rep) for i in range(0, limit, 512)])[:limit].numpy().astype(np.float32)
    theta = torch.nn.utils.parameters_to_vector(net.parameters()).numpy().astype(np.float32)

def safetensors(path, tensors, meta):
    header, off, blobs = {}, 0, []
    for k, a in tensors.items():
        bts = np.ascontiguousarray(a).tobytes(); header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(bts)]}
        off += len(bts); blobs.append(bts)
    header["__metadata__"] = meta
    h = json.dumps(header).encode(); h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
layout, o = [], 0
for name, p in zip([f"block{i}.{k}" for i in range(3) for k in ("conv.w", "conv.b", "norm.gamma", "norm.beta")] + ["head.w", "head.b"], net.parameters()):
    layout.append({"name": name, "shape": list(p.shape), "offset": o}); o += p.numel()
common = {"format_version": "1", "config_sha256": "supervised-diagnostic"}
safetensors(run_dir + "/teacher.safetensors", {"representations": reps}, {"format": "mkdt.teacher_representations", **common})
safetensors(run_dir + "/teacher_encoder.safetensors", {"theta": theta}, {"format": "mkdt.teacher_encoder", "layout": json.dumps(layout),
            "encoder": f"convnet width 128, {rep} (supervised diagnostic)", **common})
print("wrote", reps.shape, theta.shape)
