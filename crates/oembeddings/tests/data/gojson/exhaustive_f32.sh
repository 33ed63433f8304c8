#!/usr/bin/env bash
# Compares gojson's float32 encoding with Go's json.Marshal for all 2^32
# float32 bit patterns, chunk by chunk (256 chunks of 2^24 patterns, each
# summarised by an FNV-1a hash of the outputs).
#
#   tests/data/gojson/exhaustive_f32.sh          compare with the committed Go 1.26
#                                       hashes (tests/data/gojson/exhaustive_f32_go1.26.txt);
#                                       no Go needed, ~4 minutes on 2 cores
#   tests/data/gojson/exhaustive_f32.sh --go     recompute the Go hashes with
#                                       $OEMBEDDINGS_GO (or `go`) first and
#                                       compare with those (~8 more minutes);
#                                       a Go 1.26 run also refreshes the file
set -euo pipefail
cd "$(dirname "$0")/../../.."
committed=tests/data/gojson/exhaustive_f32_go1.26.txt
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
expected="$committed"
if [ "${1:-}" = --go ]; then
  GO="${OEMBEDDINGS_GO:-go}"
  version="$("$GO" version)"
  echo "$version"
  GOTOOLCHAIN=local "$GO" build -o "$tmp/exhaustive_f32" tests/data/gojson/exhaustive_f32.go
  time "$tmp/exhaustive_f32" > "$tmp/go.txt"
  expected="$tmp/go.txt"
  case "$version" in
    *" go1.26."* | *" go1.26 "*) cp "$tmp/go.txt" "$committed" ;;
  esac
fi
cargo build --release -p oembeddings --example gojson_exhaustive
time target/release/examples/gojson_exhaustive > "$tmp/rust.txt"
if diff "$expected" "$tmp/rust.txt"; then
  echo "all 2^32 float32 bit patterns identical ($expected)"
else
  echo "differing chunks above (chunk = top 8 bits of the bit pattern)" >&2
  exit 1
fi
