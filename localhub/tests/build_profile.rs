//! localhub serves many connections at once: a panic in one must not end the server. The
//! workspace's `release` profile aborts on panic (for the app's WebAssembly) and Cargo sets `panic`
//! per profile only, so localhub is built with a profile of its own, `localhub`, which unwinds;
//! `scripts/run.sh` and the README build it so.

use std::path::Path;

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The lines of `[name]` in a Cargo.toml, up to the next table.
fn table<'a>(toml: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("[{name}]");
    toml.lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn localhub_is_built_with_a_profile_that_unwinds() {
    let manifest = read("Cargo.toml");
    let profile = table(&manifest, "profile.localhub");
    assert!(
        profile.contains(&r#"inherits = "release""#) && profile.contains(&r#"panic = "unwind""#),
        "[profile.localhub] must be release with panic = \"unwind\": {profile:?}"
    );
    let run = read("scripts/run.sh");
    assert!(
        run.contains("--profile localhub -p localhub") && run.contains("target/localhub/localhub"),
        "scripts/run.sh must build and run localhub with --profile localhub"
    );
    let readme = read("README.md");
    assert!(
        !readme.contains("--release -p localhub"),
        "the README must build localhub with --profile localhub, not --release (which aborts)"
    );
}
