#!/usr/bin/env python3
"""Fails when modules import each other in a cycle (ARCHITECTURE.md: no import cycles).

Within each part (src/pki, src/iothub, src/contract, src/mqtt, src/app, localhub/src) a module's
edges are the sibling modules it names through `super::` or `crate::` paths (or through the part's
flat re-exports); between the parts, the parts named through `crate::`. Comments and test modules
are left out. Prints the cycles found, or the parts' dependencies.
"""
import glob
import os
import re
import sys


def code(path):
    text = open(path, encoding="utf-8").read().split("#[cfg(test)]")[0]
    return re.sub(r"(?m)^\s*//.*$", "", text)


def graph(folder, root):
    mods = {os.path.basename(f)[:-3]: code(f) for f in glob.glob(folder + "/*.rs")}
    exports = {}
    for m in re.finditer(r"pub(?:\(crate\))? use (\w+)::\{?([^;]*)\}?;", code(root), re.S):
        for name in re.findall(r"\w+", m.group(2)):
            exports.setdefault(name, m.group(1))
    g = {}
    for name, text in mods.items():
        refs = set(re.findall(r"(?:super|crate)::(\w+)", text))
        for m in re.finditer(r"use (?:super|crate)::\{([^}]*)\}", text):
            refs |= set(re.findall(r"\w+", m.group(1)))
        deps = {r if r in mods else exports.get(r) for r in refs}
        g[name] = {d for d in deps if d and d != name and d in mods}
    return g


def cycles(g):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
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
                found.append(sorted(comp))

    for v in g:
        if v not in index:
            visit(v)
    return found


def main():
    os.chdir(os.path.join(os.path.dirname(__file__), ".."))
    bad = []
    for folder, root in [
        ("src/contract", "src/contract.rs"),
        ("src/pki", "src/pki.rs"),
        ("src/iothub", "src/iothub.rs"),
        ("src/mqtt", "src/mqtt.rs"),
        ("src/app", "src/app.rs"),
        ("localhub/src", "localhub/src/lib.rs"),
    ]:
        if not os.path.exists(root):
            continue
        for c in cycles(graph(folder, root)):
            bad.append(f"{folder}: {' <-> '.join(c)}")
    parts = [p for p in ["contract", "pki", "iothub", "mqtt"] if os.path.exists(f"src/{p}.rs")]
    top = {}
    for p in parts:
        files = [f"src/{p}.rs"] + glob.glob(f"src/{p}/**/*.rs", recursive=True)
        text = "".join(code(f) for f in files)
        top[p] = set(re.findall(r"crate::(contract|pki|iothub|mqtt)\b", text)) - {p}
    for c in cycles(top):
        bad.append(f"src: {' <-> '.join(c)}")
    if top.get("contract"):
        bad.append(f"src/contract must be a leaf, but imports {sorted(top['contract'])}")
    if "iothub" in top.get("pki", set()):
        bad.append("src/pki imports iothub")
    if bad:
        print("import cycles:\n  " + "\n  ".join(bad))
        return 1
    print("no import cycles; parts: " + ", ".join(f"{p} -> {sorted(top[p]) or '-'}" for p in parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
