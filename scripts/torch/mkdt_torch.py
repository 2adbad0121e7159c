"""mkdt's files in PyTorch: a safetensors reader and the student ConvNet as an nn.Module.

Needs only numpy and torch (Debian: apt-get install python3-torch; it installs for Debian's own
/usr/bin/python3). Import it with scripts/torch on sys.path, as docs/formats.md shows.

The student (org.mkdt.nn.ConvNet): `depth` blocks of conv 3x3 (padding 1, bias) -> instance
norm with a per-channel scale and shift (GroupNorm with one group per channel, eps 1e-5) ->
ReLU -> 2x2 average pooling, then flatten in (C, H, W) order and a linear head. Its
parameters() come in the order of mkdt's flat vector, so a trajectory snapshot loads with
torch.nn.utils.vector_to_parameters.
"""
import json
import math
import struct

import numpy as np
import torch
from torch import nn

_DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "u1"}


def load(path):
    """A safetensors file as ({name: numpy array}, {metadata key: string})."""
    with open(path, "rb") as f:
        b = f.read()
    if len(b) < 8:
        raise ValueError(f"{path}: {len(b)} bytes, too short for a safetensors header")
    n = struct.unpack("<Q", b[:8])[0]
    if 8 + n > len(b):
        raise ValueError(f"{path}: header of {n} bytes runs past the end of the file ({len(b)} bytes)")
    header = json.loads(b[8:8 + n])
    metadata = header.pop("__metadata__", {})
    arrays = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        arrays[name] = np.frombuffer(b[8 + n + begin:8 + n + end], _DTYPES[e["dtype"]]).reshape(e["shape"]).copy()
    return arrays, metadata


class ConvNet(nn.Module):
    """mkdt's student; `features` is what the linear probe reads, `forward` adds the head."""

    def __init__(self, in_channels, image_size, width, depth, out_dim, eps=1e-5):
        super().__init__()
        layers, c = [], in_channels
        for _ in range(depth):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.GroupNorm(width, width, eps=eps), nn.ReLU(), nn.AvgPool2d(2)]
            c = width
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(width * (image_size >> depth) ** 2, out_dim)

    def forward(self, x):
        return self.head(self.features(x))

    @staticmethod
    def from_layout(layout):
        """The ConvNet a `layout` (metadata of an expert file: [{name, shape, offset}, ...]) describes."""
        shapes = {e["name"]: e["shape"] for e in layout}
        depth = sum(1 for name in shapes if name.endswith(".conv.w"))
        width, in_channels = shapes["block0.conv.w"][0], shapes["block0.conv.w"][1]
        out_dim, feature_dim = shapes["head.w"]
        side = math.isqrt(feature_dim // width)
        return ConvNet(in_channels, side << depth, width, depth, out_dim)


def split(theta, module):
    """A flat parameter vector as {name: view} in module.parameters() order (for functional_call)."""
    out, offset = {}, 0
    for name, p in module.named_parameters():
        out[name] = theta[offset:offset + p.numel()].view(p.shape)
        offset += p.numel()
    if offset != theta.numel():
        raise ValueError(f"flat vector of {theta.numel()} values, the module has {offset} parameters")
    return out
