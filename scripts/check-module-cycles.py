#!/usr/bin/env python3
"""Fails when the files of a crate import each other in a loop.

Each Rust file is a module; a file depends on another when it names it by path
(`crate::a::b`, `super::x`, `self::y`, or a `use` of those). A loop among files (two files
needing each other, directly or through others) means neither can be understood, tested or
moved alone: this check keeps every crate's modules a directed acyclic graph.

A parent module that only declares and re-exports its children (`mod x; pub use x::Y;`) is not
counted as depending on them: that is how Rust exposes a folder, not a use.

Usage: scripts/check-module-cycles.py [crate-src-dir ...]  (default: every crate of the workspace)
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SRCS = ["catalog/src", "lakehouse/src", "operators/src", "dataflows/src", "query-api/src", "src", "benchmarks/src", "tests"]

PATH_RE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP_RE = re.compile(r"\buse\s+(crate|super|self)::\{([^;]*)\};", re.S)
DECL_RE = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", re.M)
REEXPORT_RE = re.compile(r"^\s*pub(\([^)]*\))?\s+use\s+(self::)?([A-Za-z_][A-Za-z0-9_]*)::", re.M)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    # String literals may hold paths in messages; they are not imports.
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def module_files(src):
    """Maps module path (tuple) -> file path for one crate source folder."""
    mods = {}
    roots = [f for f in ("lib.rs", "main.rs") if os.path.exists(os.path.join(src, f))]
    for dirpath, _, files in os.walk(src):
        if "node_modules" in dirpath or "/target" in dirpath:
            continue
        for f in files:
            if not f.endswith(".rs"):
                continue
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, src)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ("mod",) or (len(parts) == 1 and parts[0] in ("lib", "main")):
                parts = parts[:-1]
            mods[tuple(parts)] = full
    return mods, roots


def resolve(mods, current, kind, segments):
    """The longest module path named by `kind::segments` from module `current`."""
    if kind == "crate":
        base = ()
    elif kind == "super":
        base = current[:-1]
        while segments and segments[0] == "super":
            base = base[:-1]
            segments = segments[1:]
    else:
        base = current
    path = base
    best = None
    for s in segments:
        path = path + (s,)
        if path in mods:
            best = path
        else:
            break
    return best


def edges_of(mods, mod, path):
    text = strip_comments(open(path, encoding="utf-8").read())
    declared = set(m.group(3) for m in DECL_RE.finditer(text))
    deps = set()
    refs = [(m.group(1), [s for s in m.group(2).split("::") if s]) for m in PATH_RE.finditer(text)]
    for m in USE_GROUP_RE.finditer(text):
        for item in re.split(r",", m.group(2)):
            item = item.strip().split(" as ")[0].strip()
            head = re.split(r"::|\{", item)[0].strip()
            if head:
                refs.append((m.group(1), [head] + [s for s in item.split("::")[1:] if re.match(r"^[A-Za-z_]\w*$", s)]))
    for kind, segs in refs:
        target = resolve(mods, mod, kind, segs)
        if target is None or target == mod:
            continue
        # A parent naming its own child module (declaration or re-export) is structure.
        if target[: len(mod)] == mod and len(target) == len(mod) + 1 and target[-1] in declared:
            continue
        deps.add(target)
    # `pub use child::X` in a folder module re-exports; not a dependency either.
    return deps


def cycles(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def main():
    srcs = sys.argv[1:] or [os.path.join(ROOT, s) for s in DEFAULT_SRCS]
    bad = 0
    for src in srcs:
        mods, _ = module_files(src)
        graph = {m: edges_of(mods, m, p) for m, p in mods.items()}
        for comp in cycles(graph):
            bad += 1
            names = ", ".join(os.path.relpath(mods[m], ROOT) for m in comp)
            print(f"import loop in {os.path.relpath(src, ROOT)}: {names}")
            for m in comp:
                for d in sorted(graph[m]):
                    if d in comp:
                        print(f"    {os.path.relpath(mods[m], ROOT)} -> {os.path.relpath(mods[d], ROOT)}")
    if bad:
        sys.exit(1)
    print("no import loops among the files of any crate")


if __name__ == "__main__":
    main()
