"""Reading Rust source for the checks (check-fn-length.py, check-cycles.py): the `.rs` files under
a folder, and one walk over a file's text that tells code from comments, string literals (raw ones
too) and char literals, which each check then blanks out its own way. Lifetimes and labels (`'a`)
are code."""
import os
import re

CHAR = re.compile(r"'(?:\\(?:u\{[0-9a-fA-F_]+\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'")
RAW = re.compile(r'b?r(#*)"')


def rust_files(root, folder):
    """The `.rs` files under `folder` (relative to `root`), sorted: (path, path relative to root)."""
    for dirpath, _, files in sorted(os.walk(os.path.join(root, folder))):
        for name in sorted(files):
            if name.endswith(".rs"):
                path = os.path.join(dirpath, name)
                yield path, os.path.relpath(path, root)


def read_source(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def pieces(text):
    """The text in order as (kind, piece): "code", "line comment" (without its newline), "block
    comment" (nested ones within), "string" (quotes included, raw strings too) or "char"."""
    i, n, code = 0, len(text), 0
    while i < n:
        c = text[i]
        kind, end = None, i
        if text.startswith("//", i):
            j = text.find("\n", i)
            kind, end = "line comment", n if j < 0 else j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            kind, end = "block comment", j
        elif c in "rb" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) and RAW.match(text, i):
            m = RAW.match(text, i)
            close = text.find('"' + m.group(1), m.end())
            kind, end = "string", n if close < 0 else close + 1 + len(m.group(1))
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            kind, end = "string", j + 1
        elif c == "'":
            m = CHAR.match(text, i)
            if m:
                kind, end = "char", m.end()
        if kind is None:
            i += 1
            continue
        if code < i:
            yield "code", text[code:i]
        yield kind, text[i:end]
        i = code = end
    if code < n:
        yield "code", text[code:]
