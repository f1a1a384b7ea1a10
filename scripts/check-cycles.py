#!/usr/bin/env python3
"""Fails when modules import each other in a cycle (ARCHITECTURE.md: no import cycles).

Every module file of each part (src/contract, src/pki, src/iothub, src/mqtt, src/app, localhub/src)
is read, found by following the `mod` declarations from the part's root file down to its nested
modules (src/app/steps/device.rs is `steps::device`). A module's edges are the modules whose items
it names: through `use` declarations, `crate::`, `super::` and `self::` paths, names brought in by
`use super::*`, and through re-exports (`pub use`), followed to the module that defines the item. A
module naming its own submodules is how a parent holds its children and is not an edge. At each
module with submodules, the submodules are checked against each other, each standing for itself and
everything under it (`dps` <-> `mqtt` when `dps/http.rs` uses `mqtt` and `mqtt` uses
`dps/register.rs`). Between the parts, an edge is a module of one part naming an item of another.
Comments, string literals and test items (`#[cfg(test)]`) are left out. Prints the cycles found, or
the parts' dependencies.
"""
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
from rust_files import pieces, read_source  # noqa: E402

KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "union",
}
# What each kind of piece of the source becomes: literals keep their place, comments go.
STRIPPED = {"line comment": "", "block comment": " ", "string": '""', "char": "' '"}


def strip(text):
    """The code without comments and literals (each string becomes "", each char ' ')."""
    return "".join(piece if kind == "code" else STRIPPED[kind] for kind, piece in pieces(text))


def item_end(code, i):
    """Where the item starting at `i` ends: its `;`, or the brace closing its body."""
    while i < len(code) and code[i] not in ";{":
        i += 1
    if i < len(code) and code[i] == "{":
        depth = 0
        while i < len(code):
            depth += {"{": 1, "}": -1}.get(code[i], 0)
            if depth == 0:
                break
            i += 1
    return i + 1


def without_tests(code):
    attr = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
    while True:
        m = attr.search(code)
        if not m:
            return code
        i = m.end()
        while True:  # further attributes of the same item
            a = re.compile(r"\s*#\s*\[").match(code, i)
            if not a:
                break
            depth, i = 1, a.end()
            while i < len(code) and depth:
                depth += {"[": 1, "]": -1}.get(code[i], 0)
                i += 1
        code = code[: m.start()] + " " + code[item_end(code, i):]


def depths(code):
    d, out = 0, []
    for c in code:
        out.append(d)
        d += {"{": 1, "}": -1}.get(c, 0)
    return out


def use_tree(text):
    """`a::{b, c::d as e, f::*}` -> [(["a", "b"], "b"), (["a", "c", "d"], "e"), (["a", "f"], "*")]."""
    tokens = re.findall(r"::|\w+|[{},*]", text)
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else None

    def take():
        pos[0] += 1
        return tokens[pos[0] - 1]

    def tree(prefix):
        out = []
        if peek() == "::":
            take()
        if peek() == "{":
            take()
            while peek() not in (None, "}"):
                out += tree(prefix)
                if peek() == ",":
                    take()
            take()
            return out
        if peek() == "*":
            take()
            return [(prefix, "*")]
        name = take()
        if name == "self" and prefix:
            path = prefix
        else:
            path = prefix + [name]
        if peek() == "::":
            take()
            return tree(path)
        alias = path[-1]
        if peek() == "as":
            take()
            alias = take()
        return [(path, alias)]

    try:
        return tree([])
    except IndexError:
        return []


class Module:
    def __init__(self, path, file, code):
        self.path, self.file = path, file
        self.code = code
        depth = depths(code)
        self.children = {}
        self.defs = set()
        self.imports = {}  # name -> path, for this module's top-level `use` declarations
        self.globs = []  # paths of `use …::*`
        self.uses = []  # (path, text) of every `use` anywhere in the file
        for m in re.finditer(r"\bmod\s+(\w+)\s*;", code):
            if depth[m.start()] == 0:
                self.children[m.group(1)] = path + (m.group(1),)
        for m in re.finditer(r"(?<!')\b(?:fn|struct|enum|trait|type|union|const|static)\s+(?:mut\s+)?(\w+)", code):
            if depth[m.start()] == 0 and m.group(1) not in KEYWORDS:
                self.defs.add(m.group(1))
        for m in re.finditer(r"\bmacro_rules!\s*(\w+)", code):
            self.defs.add(m.group(1))
        for m in re.finditer(r"\buse\s+([^;]*);", code):
            for p, alias in use_tree(m.group(1)):
                if alias == "*":
                    self.globs.append(p)
                elif depth[m.start()] == 0:
                    self.imports[alias] = p
                self.uses.append((p, alias, "use " + "::".join(p) + ("::*" if alias == "*" else "")))
        # The code besides the `use` declarations, where paths and glob-imported names are used.
        self.body = re.sub(r"\buse\s+[^;]*;", " ", code)


def read_tree(root_file, root_path):
    """Every module under a root file, by module path, following its `mod name;` declarations."""
    mods = {}

    def read(file, path):
        code = without_tests(strip(read_source(file)))
        mod = mods[path] = Module(path, file, code)
        base = os.path.basename(file)
        folder = os.path.dirname(file) if base in ("lib.rs", "main.rs", "mod.rs") else file[:-3]
        for name, child in mod.children.items():
            for f in (f"{folder}/{name}.rs", f"{folder}/{name}/mod.rs"):
                if os.path.exists(f):
                    read(f, child)
                    break

    read(root_file, root_path)
    return mods


class Resolver:
    def __init__(self, mods, crate):
        self.mods, self.crate = mods, crate

    def name(self, mod, name, seen=None, last=False):
        """(module path, is_module) that `name` in the scope of `mod` stands for, or None.

        A name both a submodule and an item (`dps::register`, the module and the function it
        re-exports) is the item when nothing follows it in the path (`last`)."""
        seen = seen or set()
        if (mod, name) in seen or mod not in self.mods:
            return None
        seen.add((mod, name))
        m = self.mods[mod]
        if name in m.defs:
            return (mod, False)
        if name in m.children and not (last and name in m.imports):
            return (m.children[name], True)
        if name in m.imports:
            return self.path(mod, m.imports[name], seen)
        for g in m.globs:
            target = self.path(mod, g, seen)
            if target and target[1]:
                found = self.name(target[0], name, seen)
                if found:
                    return found
        return None

    def path(self, mod, segs, seen=None):
        """(module path, is_module) that the path `segs` used in `mod` ends in, or None (another crate)."""
        seen = seen or set()
        segs = list(segs)
        first = segs.pop(0)
        if first == "crate":
            cur = self.crate
        elif first == "self":
            cur = mod
        elif first == "super":
            cur = mod[:-1]
            while segs and segs[0] == "super":
                segs.pop(0)
                cur = cur[:-1]
        else:
            found = self.name(mod, first, seen, last=not segs)
            if not found:
                return None
            cur, is_mod = found
            if not is_mod:
                return found
        for i, s in enumerate(segs):
            if s == "super":
                cur = cur[:-1]
                continue
            found = self.name(cur, s, seen, last=i == len(segs) - 1)
            if not found:
                return (cur, False)
            cur, is_mod = found
            if not is_mod:
                return found
        return (cur, True)

    def edges(self, mod):
        """{target module: the text that names it} for the module `mod`."""
        m, out = self.mods[mod], {}

        def add(found, text):
            if found and found[0] != mod and found[0] in self.mods:
                out.setdefault(found[0], text)

        for p, alias, text in m.uses:
            if alias == "*":
                continue
            found = self.path(mod, p)
            if found and not found[1]:  # a module imported is followed where it is used
                add(found, text)
        for pm in re.finditer(r"(?<![\w:$])((?:crate|super|self|[A-Za-z_]\w*)(?:\s*::\s*\w+)+)", m.body):
            segs = re.findall(r"\w+", pm.group(1))
            add(self.path(mod, segs), re.sub(r"\s+", "", pm.group(1)))
        if m.globs:
            own = set(m.defs) | set(m.children) | set(m.imports)
            for w in sorted(set(re.findall(r"(?<![\w:.$])([A-Za-z_]\w*)", m.body)) - own - KEYWORDS):
                for g in m.globs:
                    target = self.path(mod, g)
                    if target and target[1]:
                        found = self.name(target[0], w)
                        if found and not (found[1] and not re.search(rf"\b{w}\s*::", m.body)):
                            add(found, f"{w} (use {'::'.join(g)}::*)")
                            break
        return out


def cycles(g):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
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

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def some_cycles(g, comp):
    """Shortest cycles, one through each module of a strongly connected component not yet shown."""
    shown, out = set(), []
    for v in comp:
        if v not in shown:
            loop = one_cycle(g, comp, v)
            shown |= set(loop)
            out.append(loop)
    return out


def one_cycle(g, comp, start):
    """A shortest cycle through `start`, inside a strongly connected component."""
    inside = set(comp)
    prev, queue = {start: None}, [start]
    for v in queue:
        for w in sorted(g[v]):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return path[::-1] + [start]
            if w in inside and w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


def main():
    os.chdir(os.path.join(os.path.dirname(__file__), ".."))
    bad, count, top = [], 0, {}
    crates = [("src/lib.rs", ["contract", "pki", "iothub", "mqtt", "app"]), ("localhub/src/lib.rs", None)]
    for root_file, parts in crates:
        if not os.path.exists(root_file):
            continue
        mods = read_tree(root_file, ())
        resolver = Resolver(mods, ())
        part_of = (lambda p: p[0] if p else None) if parts else (lambda p: "localhub")
        for part in parts or ["localhub"]:
            members = sorted(p for p in mods if part_of(p) == part)
            if not members:
                continue
            count += len(members)
            g, why = {}, {}
            top.setdefault(part, set())
            for p in members:
                g[p] = set()
                for t, text in resolver.edges(p).items():
                    if part_of(t) != part:
                        if part_of(t):
                            top[part].add(part_of(t))
                    elif t[: len(p)] != p:  # a parent naming its own submodule is no edge
                        g[p].add(t)
                        why[(p, t)] = text
            # At each module with submodules, each submodule stands for itself and all under it.
            for parent in members:
                kids = {c: set() for c in mods[parent].children.values() if c in mods}
                if len(kids) < 2:
                    continue
                n, via = len(parent), {}
                for a in sorted(g):
                    for b in sorted(g[a]):
                        if len(a) > n and len(b) > n and a[:n] == parent and b[:n] == parent and a[n] != b[n]:
                            ka, kb = parent + (a[n],), parent + (b[n],)
                            kids[ka].add(kb)
                            via.setdefault((ka, kb), (a, b))
                for comp in cycles(kids):
                    name = mods[parent].file[:-3] if parent[len(members[0]):] else os.path.dirname(mods[parent].file)
                    if parts and parent == members[0]:
                        name = f"src/{part}"
                    bad.append(f"{name}: {' <-> '.join('::'.join(c[n:]) for c in comp)}")
                    for loop in some_cycles(kids, comp):
                        bad.append("  " + " -> ".join("::".join(c[n:]) for c in loop))
                        for ka, kb in zip(loop, loop[1:]):
                            a, b = via[(ka, kb)]
                            bad.append(f"      {mods[a].file} -> {mods[b].file} ({why[(a, b)]})")
    top.pop("localhub", None)
    for c in cycles(top):
        bad.append(f"src: {' <-> '.join(c)}")
    if top.get("contract"):
        bad.append(f"src/contract must be a leaf, but imports {sorted(top['contract'])}")
    if "iothub" in top.get("pki", set()):
        bad.append("src/pki imports iothub")
    for p in ["contract", "pki", "iothub", "mqtt"]:
        if "app" in top.get(p, set()):
            bad.append(f"src/{p} imports app")
    if bad:
        print("import cycles:\n  " + "\n  ".join(bad))
        return 1
    print(
        f"no import cycles among {count} modules; parts: "
        + ", ".join(f"{p} -> {sorted(top[p]) or '-'}" for p in top)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
