#!/usr/bin/env python3
"""Fails when a function of the app is longer than 120 lines (style.md: the app decides nothing).

clippy's `too_many_lines` (120 for the app) does not see the body of a `#[component]` function,
which the macro rewrites; this check reads the source instead. Every `fn` in src/app (components,
hooks, helpers, nested and test functions alike) is measured in physical lines, from the line of
`fn` to the line of its closing brace, both counted; blank and comment lines count too (clippy
leaves them out, so this is the stricter count). Comments, string and char literals are skipped
when matching braces.

A function over the limit is allowed only if scripts/fn-length-allow.txt lists it
(`file name maxlines`, one a line, `#` comments) and it has not grown past its listed length: a
ratchet that lets the list only shrink. A listed function that no longer exceeds the limit, or no
longer exists, is reported so the line can be removed.

Prints `file:line name lines` for each offender and exits non-zero if there is any.
"""
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
from rust_files import pieces, read_source, rust_files  # noqa: E402

LIMIT = 120
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
APP = "src/app"
ALLOW = "scripts/fn-length-allow.txt"
FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")


def blank(text):
    """The code with comments and literals turned to spaces, newlines kept (so lines still match)."""
    return "".join(
        piece if kind == "code" else "".join("\n" if ch == "\n" else " " for ch in piece)
        for kind, piece in pieces(text)
    )


def functions(path):
    """(line, name, lines) of each fn with a body in the file."""
    code = blank(read_source(path))
    found = []
    for m in FN.finditer(code):
        # The body is the first `{` after the signature, unless a `;` ends a bodiless declaration.
        i, depth_paren = m.end(), 0
        while i < len(code):
            c = code[i]
            if c in "(<[":
                depth_paren += 1
            elif c in ")>]":
                depth_paren -= 1 if c != ">" or code[i - 1] != "-" else 0
            elif c == ";" and depth_paren <= 0:
                i = -1
                break
            elif c == "{" and depth_paren <= 0:
                break
            i += 1
        if i < 0 or i >= len(code):
            continue
        depth, j = 0, i
        while j < len(code):
            if code[j] == "{":
                depth += 1
            elif code[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        first = code.count("\n", 0, m.start()) + 1
        last = code.count("\n", 0, j) + 1
        found.append((first, m.group(1), last - first + 1))
    return found


def allowed():
    path = os.path.join(ROOT, ALLOW)
    if not os.path.exists(path):
        return {}
    allow = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                file, name, most = line.split()
                allow[(file, name)] = int(most)
    return allow


def main():
    allow = allowed()
    seen, bad = set(), 0
    for path, rel in rust_files(ROOT, APP):
        for line, fn, lines in functions(path):
            if lines <= LIMIT:
                continue
            key = (rel, fn)
            seen.add(key)
            most = allow.get(key)
            if most is not None and lines <= most:
                continue
            bad += 1
            why = f" (allowed {most})" if most is not None else ""
            print(f"{rel}:{line} {fn} {lines}{why}")
    for key, most in sorted(allow.items()):
        if key not in seen:
            print(f"{ALLOW}: {key[0]} {key[1]} is now within {LIMIT} lines: remove it from the list")
            bad += 1
    if bad:
        print(f"{bad} function(s) in {APP} over {LIMIT} lines (or stale allow-list lines)")
        return 1
    print(f"every function in {APP} is within {LIMIT} lines ({len(seen)} allowed by {ALLOW})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
