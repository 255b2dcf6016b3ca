#!/usr/bin/env bash
# Builds the release: static, stripped plugin binaries and the installer, checks them, and packs
# them like the reference release (a tarball of ./bridge ./macvlan ./vxlan ./host-local).
#
#   scripts/release.sh [--out DIR] [--conformance]     (default DIR: target/dist)
#
# --conformance then runs the black-box suite (conformance/) against DIR/bin: what CI ships is
# what was tested.
#
# Output:
#   DIR/bin/<plugin>...                     the plugins that exist in the workspace
#   DIR/cni-install                         the installer (the image's entrypoint)
#   DIR/conflists/                          manifests/conflists, for the image
#   DIR/cni-plugins-rust-linux-<arch>-v<version>.tgz   ./<plugin> entries, reproducible
#   DIR/SHA256SUMS
# Exits non-zero if a binary is not static, does not run in an empty root, or does not print
# its banner and supported versions.
#
# Static: the gnu target with crt-static and a static relocation model, so the binaries have no
# dynamic section at all (not even static-pie's self-relocation table): nothing for a chrooted
# Multus thick-mode exec or an older host libc to resolve. No musl target is needed, and the
# plugins use no NSS (no user, group or host lookups), which is what static glibc cannot do.
# `--target` is passed explicitly so that RUSTFLAGS reach only the shipped binaries, not build
# scripts or proc macros (which cannot be static), and so normal `cargo build`/`cargo test`
# artifacts are untouched.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/dist"
conformance=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --out=*) out=$(realpath -m "${1#--out=}"); shift ;;
    --conformance) conformance=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "release.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
cd "$root"

for tool in cargo jq readelf file tar gzip sha256sum chroot; do
  command -v "$tool" >/dev/null || { echo "release.sh: $tool is required" >&2; exit 1; }
done

target=$(rustc -vV | sed -n 's/^host: //p')
case "$target" in
  x86_64-unknown-linux-gnu) arch=amd64 ;;
  aarch64-unknown-linux-gnu) arch=arm64 ;;
  *) echo "release.sh: unsupported host $target" >&2; exit 1 ;;
esac

# The plugins a release carries, in the reference tarball's order; the ones the workspace has.
wanted=(bridge macvlan vxlan host-local)
metadata=$(cargo metadata --no-deps --format-version 1)
bins=$(jq -r '.packages[].targets[] | select(.kind | index("bin")) | .name' <<<"$metadata")
version=$(jq -r '.packages[] | select(.name == "cni-install") | .version' <<<"$metadata")
plugins=()
missing=()
for p in "${wanted[@]}"; do
  if grep -qx "$p" <<<"$bins"; then plugins+=("$p"); else missing+=("$p"); fi
done
if [ "${#plugins[@]}" -eq 0 ]; then echo "release.sh: no plugin binaries in the workspace" >&2; exit 1; fi

build_args=(--release --target "$target" --bin cni-install)
for p in "${plugins[@]}"; do build_args+=(--bin "$p"); done
echo "==> cargo build ${build_args[*]} (crt-static)"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static" cargo build "${build_args[@]}"
built="${CARGO_TARGET_DIR:-$root/target}/$target/release"

rm -rf "$out"
mkdir -p "$out/bin" "$out/conflists"
for p in "${plugins[@]}"; do install -m 0755 "$built/$p" "$out/bin/$p"; done
install -m 0755 "$built/cni-install" "$out/cni-install"
cp manifests/conflists/*.conflist "$out/conflists/" 2>/dev/null || true

# The checks. A static binary has no program interpreter and no NEEDED libraries; it must then
# run inside an empty root (how Multus thick mode runs delegates: chrooted into the host, whose
# libc is not ours).
fail=0
sandbox=$(mktemp -d)
chroot=$(command -v chroot)
trap 'rm -rf "$sandbox"' EXIT
check_static() {
  local f=$1
  if readelf -lW "$f" | grep -q 'INTERP'; then echo "FAIL $f: has a program interpreter"; return 1; fi
  if ! readelf -d "$f" | grep -q 'There is no dynamic section'; then echo "FAIL $f: has a dynamic section"; return 1; fi
  if readelf -SW "$f" | grep -q ' .symtab '; then echo "FAIL $f: not stripped"; return 1; fi
  file -b "$f" | grep -Eq 'statically linked' || { echo "FAIL $f: $(file -b "$f")"; return 1; }
}
in_empty_root() { # binary [VAR=value...] [-- args...]; prints stdout+stderr
  local f=$1; shift
  local vars=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do vars+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  cp "$f" "$sandbox/prog"
  env -i "${vars[@]}" "$chroot" "$sandbox" /prog "$@" </dev/null 2>&1
}
all_versions='0.1.0,0.2.0,0.3.0,0.3.1,0.4.0,1.0.0,1.1.0'
for p in "${plugins[@]}"; do
  f="$out/bin/$p"
  check_static "$f" || { fail=1; continue; }
  banner=$(in_empty_root "$f") || { echo "FAIL $p: banner run exited $?"; fail=1; continue; }
  want="CNI $p plugin v$version"
  grep -qxF "$want" <<<"$banner" || { echo "FAIL $p: banner lacks '$want': $banner"; fail=1; continue; }
  grep -qxF "CNI protocol versions supported: ${all_versions//,/, }" <<<"$banner" \
    || { echo "FAIL $p: banner lacks the versions: $banner"; fail=1; continue; }
  answer=$(in_empty_root "$f" CNI_COMMAND=VERSION) || { echo "FAIL $p: VERSION exited $?"; fail=1; continue; }
  got=$(jq -r '.supportedVersions | join(",")' <<<"$answer" 2>/dev/null || true)
  [ "$got" = "$all_versions" ] || { echo "FAIL $p: VERSION answered $answer"; fail=1; continue; }
  echo "ok   $p: static, stripped, runs in an empty root; $(head -1 <<<"$banner")"
done
if check_static "$out/cni-install" && [ "$(in_empty_root "$out/cni-install" -- --version)" = "cni-install v$version" ]; then
  echo "ok   cni-install: static, stripped, runs in an empty root"
else
  echo "FAIL cni-install"; fail=1
fi
[ "$fail" -eq 0 ] || { echo "release.sh: checks failed" >&2; exit 1; }

# The tarball, reproducible: fixed order, owner and mtime (the last commit's), no gzip name/time.
tarball="cni-plugins-rust-linux-$arch-v$version.tgz"
mtime=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
entries=()
for p in "${plugins[@]}"; do entries+=("./$p"); done
tar -C "$out/bin" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
  -cf - "${entries[@]}" | gzip -n -9 >"$out/$tarball"
(cd "$out" && sha256sum "$tarball" cni-install bin/* >SHA256SUMS)

echo "==> $out"
for f in "${plugins[@]/#/bin/}" cni-install "$tarball"; do
  printf '  %-45s %9d bytes\n' "$f" "$(stat -c %s "$out/$f")"
done
echo "packaged: ${plugins[*]}"
if [ "${#missing[@]}" -gt 0 ]; then echo "not packaged (no such binary in the workspace yet): ${missing[*]}"; fi

if [ "$conformance" -eq 1 ]; then
  echo "==> conformance suite against $out/bin"
  cargo run --quiet -p cni-conformance -- run --plugins "$out/bin"
fi
