#!/usr/bin/env bash
# `cargo deny check advisories` against the RustSec advisory database.
#
# Where GitHub is reachable, against a fresh copy of the database. Where it is not (these build
# machines reach only the package registries), against the snapshot in tests/advisory-db/: every
# advisory of every crate named in Cargo.lock, cut from rustsec/advisory-db at the commit and date
# its SNAPSHOT file gives. The check refuses to run when Cargo.lock names a crate the snapshot was
# not cut for: refresh it then. A snapshot over 30 days old gets a loud STALE warning with its age
# and the refresh command (a warning, not a failure: machines that cannot reach GitHub cannot
# refresh it either, and the advisories it holds are still checked).
#
# Every workspace member is a root of the graph (`--workspace`): hubcert and localhub, with their
# dev-dependencies.
#
#   scripts/advisories.sh                    run the check
#   scripts/advisories.sh --refresh CLONE    cut a new snapshot from a clone of rustsec/advisory-db
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${HUBCERT_CARGO_DENY:-}" ] || . scripts/env.sh
deny="${HUBCERT_CARGO_DENY:-cargo-deny}"
snapshot=tests/advisory-db

lock_crates() { sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.lock | sort -u; }

if [ "${1:-}" = "--refresh" ]; then
  clone="${2:?usage: scripts/advisories.sh --refresh CLONE-OF-rustsec/advisory-db}"
  rm -rf "$snapshot/crates"
  mkdir -p "$snapshot/crates"
  lock_crates > "$snapshot/crates.txt"
  while read -r name; do
    if [ -d "$clone/crates/$name" ]; then cp -r "$clone/crates/$name" "$snapshot/crates/"; fi
  done < "$snapshot/crates.txt"
  git -C "$clone" log -1 --format='commit %H%ndate %cI' > "$snapshot/SNAPSHOT"
  echo "snapshot: $(ls "$snapshot/crates" | wc -l) crates with advisories of $(wc -l < "$snapshot/crates.txt") in Cargo.lock"
  cat "$snapshot/SNAPSHOT"
  exit 0
fi

# `cargo metadata` (which cargo deny runs) needs every package of the graph, for all targets.
cargo fetch --locked -q

if timeout 15 git ls-remote https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1 &&
  timeout 300 "$deny" fetch db >/dev/null 2>&1; then
  echo "advisories: the RustSec database from GitHub (fetched now)"
  exec "$deny" --workspace --offline check advisories
fi

missing=$(comm -23 <(lock_crates) "$snapshot/crates.txt")
if [ -n "$missing" ]; then
  echo "advisories: GitHub is out of reach and the snapshot in $snapshot was cut before Cargo.lock named:"
  echo "$missing" | sed 's/^/  /'
  echo "refresh it where GitHub is reachable: git clone https://github.com/rustsec/advisory-db /tmp/advisory-db && scripts/advisories.sh --refresh /tmp/advisory-db"
  exit 1
fi

# cargo deny reads a database as a git checkout named after its URL, with --disable-fetch.
db=target/advisory-db
repo="$db/advisory-db-3157b0e258782691"
rm -rf "$db"
mkdir -p "$repo"
cp -r "$snapshot/crates" "$repo/"
date=$(sed -n 's/^date //p' "$snapshot/SNAPSHOT")
(
  cd "$repo"
  git init -q
  git add -A
  GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" \
    git -c user.name=snapshot -c user.email=snapshot@localhost commit -qm snapshot
)
sed "s#^\[advisories\]#[advisories]\ndb-path = \"$db\"\ndb-urls = [\"https://github.com/rustsec/advisory-db\"]#" deny.toml > "$db/deny.toml"
echo "advisories: GitHub is out of reach; the snapshot in $snapshot ($(sed -n 's/^commit //p' "$snapshot/SNAPSHOT" | cut -c1-12), $date)"
max_age_days=30
age_days=$((($(date +%s) - $(date -d "$date" +%s)) / 86400))
if [ "$age_days" -gt "$max_age_days" ]; then
  cat <<STALE
advisories: ======================================================================== STALE
advisories: STALE SNAPSHOT: $snapshot was cut $age_days days ago ($date), over $max_age_days days:
advisories: advisories published since then are NOT checked. Refresh it where GitHub is reachable:
advisories:   git clone https://github.com/rustsec/advisory-db /tmp/advisory-db && scripts/advisories.sh --refresh /tmp/advisory-db
advisories: ======================================================================== STALE
STALE
fi
exec "$deny" --workspace --offline --config "$db/deny.toml" check advisories
