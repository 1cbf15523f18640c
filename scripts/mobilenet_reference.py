#!/usr/bin/env python3
"""Reference MobileNetV2 classification in Python from the same weights Acervo's candle model
loads: torchvision's legacy checkpoint read with the standard pickle module (no torch), and an
independent NumPy forward pass (float32, batch norm applied as is, not folded).

  python3 scripts/mobilenet_reference.py WEIGHTS.pth PICTURES.rgb COUNT

PICTURES.rgb holds COUNT prepared pictures (224x224 RGB bytes each, as Acervo prepares them).
Prints JSON: {"seconds": forward-pass time, "top5": [[[class, probability], ...], ...]}.
Needs numpy (Debian's python3-numpy, or PyPI).
"""
import collections
import json
import pickle
import struct
import sys
import time

import numpy as np

SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class Ref:
    def __init__(self, key, offset, size):
        self.key, self.offset, self.size = key, offset, tuple(size)


def rebuild(storage, offset, size, stride, *rest):
    return Ref(storage, offset, size)


WIDTH = {"FloatStorage": ("<f4", 4), "LongStorage": ("<i8", 8), "DoubleStorage": ("<f8", 8), "HalfStorage": ("<f2", 2)}


class Legacy(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name.endswith("Storage"):
            return name
        raise pickle.UnpicklingError(f"refusing {module}.{name}")

    def persistent_load(self, pid):
        return (pid[2], pid[1])  # ('storage', type, key, location, numel)


def load(path):
    with open(path, "rb") as f:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(f)
        state = Legacy(f).load()
        keys = pickle.load(f)
        kinds = {ref.key[0]: ref.key[1] for ref in state.values() if isinstance(ref, Ref)}
        storages = {}
        for k in keys:
            (n,) = struct.unpack("<Q", f.read(8))
            dtype, width = WIDTH[kinds.get(k, "FloatStorage")]
            storages[k] = np.frombuffer(f.read(width * n), dtype=dtype)
    out = {}
    for name, ref in state.items():
        if isinstance(ref, Ref) and kinds[ref.key[0]] == "FloatStorage":
            n = int(np.prod(ref.size)) if ref.size else 1
            out[name] = storages[ref.key[0]][ref.offset:ref.offset + n].reshape(ref.size).astype(np.float32)
    return out


def bn(x, w, p):
    scale = w[p + ".weight"] / np.sqrt(w[p + ".running_var"] + 1e-5)
    return (x - w[p + ".running_mean"][None, :, None, None]) * scale[None, :, None, None] + w[p + ".bias"][None, :, None, None]


def relu6(x):
    return np.clip(x, 0, 6)


def conv_full(x, k, stride):
    """3x3 convolution, padding 1 (the stem), by shifted slices."""
    b, c, h, w = x.shape
    p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    oh, ow = (h - 1) // stride + 1, (w - 1) // stride + 1
    out = np.zeros((b, k.shape[0], oh, ow), dtype=np.float32)
    for dy in range(3):
        for dx in range(3):
            patch = p[:, :, dy:dy + stride * oh:stride, dx:dx + stride * ow:stride]
            out += np.einsum("bchw,oc->bohw", patch, k[:, :, dy, dx])
    return out


def conv_depthwise(x, k, stride):
    b, c, h, w = x.shape
    p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    oh, ow = (h - 1) // stride + 1, (w - 1) // stride + 1
    out = np.zeros((b, c, oh, ow), dtype=np.float32)
    for dy in range(3):
        for dx in range(3):
            out += p[:, :, dy:dy + stride * oh:stride, dx:dx + stride * ow:stride] * k[None, :, 0, dy, dx, None, None]
    return out


def conv_1x1(x, k):
    return np.einsum("bchw,oc->bohw", x, k[:, :, 0, 0], optimize=True)


def forward(w, x):
    h = relu6(bn(conv_full(x, w["features.0.0.weight"], 2), w, "features.0.1"))
    inp, idx = 32, 1
    for t, c, n, s in SETTINGS:
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{idx}.conv"
            y = h
            if t != 1:
                y = relu6(bn(conv_1x1(y, w[p + ".0.0.weight"]), w, p + ".0.1"))
                dw, proj, norm = p + ".1", p + ".2", p + ".3"
            else:
                dw, proj, norm = p + ".0", p + ".1", p + ".2"
            y = relu6(bn(conv_depthwise(y, w[dw + ".0.weight"], stride), w, dw + ".1"))
            y = bn(conv_1x1(y, w[proj + ".weight"]), w, norm)
            h = h + y if stride == 1 and inp == c else y
            inp, idx = c, idx + 1
    h = relu6(bn(conv_1x1(h, w[f"features.{idx}.0.weight"]), w, f"features.{idx}.1"))
    logits = h.mean(axis=(2, 3)) @ w["classifier.1.weight"].T + w["classifier.1.bias"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    weights, pictures, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    w = load(weights)
    raw = np.fromfile(pictures, dtype=np.uint8).reshape(count, 224, 224, 3)
    x = ((raw.astype(np.float32) / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2).astype(np.float32)
    start = time.perf_counter()
    probs = forward(w, x)
    seconds = time.perf_counter() - start
    top5 = [[[int(c), float(row[c])] for c in np.argsort(-row)[:5]] for row in probs]
    json.dump({"seconds": seconds, "top5": top5}, sys.stdout)


if __name__ == "__main__":
    main()
