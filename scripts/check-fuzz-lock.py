#!/usr/bin/env python3
"""Fails when the fuzz targets would build other versions of the crates that ship.

fuzz/ is a workspace of its own (cargo fuzz needs that), with its own Cargo.lock: left alone it
drifts, and the fuzzers then test code that is not what `cargo build --locked` ships. Every crate
that fuzz/Cargo.lock shares with Cargo.lock must be at a version Cargo.lock has; the crates only
fuzzing needs (libFuzzer's bindings, arbitrary) are listed apart. Prints what drifted and the
command that brings it back.
"""
import sys
import tomllib

FUZZ_ONLY = {"hubcert-fuzz", "libfuzzer-sys", "arbitrary", "jobserver"}


def versions(path):
    out = {}
    for p in tomllib.load(open(path, "rb"))["package"]:
        out.setdefault(p["name"], set()).add(p["version"])
    return out


main = versions("Cargo.lock")
fuzz = versions("fuzz/Cargo.lock")
drift = []
unknown = []
for name, vs in sorted(fuzz.items()):
    if name in FUZZ_ONLY:
        continue
    if name not in main:
        unknown.append(f"{name} {', '.join(sorted(vs))}")
        continue
    for v in sorted(vs - main[name]):
        drift.append((name, v, sorted(main[name])))
if drift or unknown:
    for name, v, want in drift:
        print(f"fuzz/Cargo.lock has {name} {v}; Cargo.lock has {', '.join(want)}: "
              f"cargo update --manifest-path fuzz/Cargo.toml -p {name}@{v} --precise {want[-1]}")
    for u in unknown:
        print(f"fuzz/Cargo.lock has {u}, which Cargo.lock does not: add it to FUZZ_ONLY in {sys.argv[0]} if only fuzzing needs it")
    sys.exit(1)
print(f"fuzz/Cargo.lock: the {sum(len(v) for n, v in fuzz.items() if n not in FUZZ_ONLY)} shared crate versions are the ones Cargo.lock ships")
