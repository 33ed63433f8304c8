#!/usr/bin/env bash
# Regenerates tests/data/gojson/golden_vectors.txt from real Go.
#
# Each line of golden_vectors.txt is an input line (format: see golden.go),
# a TAB, and Go's json.Marshal output for it. The inputs are taken from the
# first column of the existing file; to add a case, append a line holding
# just the input (no TAB) and rerun this script.
#
# The file records the behaviour of Go 1.26 (the producer's version), which
# differs from other Go versions in a few places (older Go: \u0008 and
# \u000c instead of \b and \f; other versions: float32 2^-12 printed as
# 0.00024414062; Go 1.27, or GOEXPERIMENT=jsonv2: invalid UTF-8 written as a
# raw U+FFFD instead of \ufffd). So this script refuses any other Go version
# unless GOLDEN_ANY_GO=1 is set.
#
# Uses $OEMBEDDINGS_GO, else `go` on PATH.
set -euo pipefail
cd "$(dirname "$0")"
GO="${OEMBEDDINGS_GO:-go}"
version="$("$GO" version)"
echo "$version"
case "$version" in
  *" go1.26."* | *" go1.26 "*) ;;
  *)
    if [ "${GOLDEN_ANY_GO:-}" != 1 ]; then
      echo "regen.sh: need Go 1.26 (set GOLDEN_ANY_GO=1 to use this one anyway)" >&2
      exit 1
    fi
    ;;
esac
case "$(GOTOOLCHAIN=local "$GO" env GOEXPERIMENT)" in
  *jsonv2*)
    echo "regen.sh: GOEXPERIMENT contains jsonv2; unset it" >&2
    exit 1
    ;;
esac
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cut -f1 golden_vectors.txt > "$tmp/inputs.txt"
GOTOOLCHAIN=local "$GO" run golden.go < "$tmp/inputs.txt" > "$tmp/outputs.txt"
if [ "$(wc -l < "$tmp/inputs.txt")" != "$(wc -l < "$tmp/outputs.txt")" ]; then
  echo "regen.sh: line count mismatch" >&2
  exit 1
fi
paste "$tmp/inputs.txt" "$tmp/outputs.txt" > golden_vectors.txt
echo "wrote $(wc -l < golden_vectors.txt) vectors to tests/data/gojson/golden_vectors.txt"
