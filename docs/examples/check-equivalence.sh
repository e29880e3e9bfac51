#!/usr/bin/env bash
# Compile every OpenQASM file given on the command line over K QPUs, verify each output twice
# (inside `dqc compile --verify` and again, from the written file, with `dqc verify --json`), and
# fail on the first circuit that is not equivalent. Usage: check-equivalence.sh K OUTDIR FILE...
set -euo pipefail
k="$1"; out="$2"; shift 2
mkdir -p "$out"
for f in "$@"; do
    name="$(basename "$f" .qasm)"
    dqc compile "$f" --qpus "$k" -o "$out/$name.qasm" --report "$out/$name.json" --verify --json > /dev/null
    if ! dqc verify "$f" "$out/$name.qasm" --report "$out/$name.json" --json > "$out/$name.verdict.json"; then
        echo "$f: the distributed circuit is NOT equivalent (or unreadable):" >&2
        cat "$out/$name.verdict.json" >&2
        exit 1
    fi
    python -c "import json,sys; v=json.load(open(sys.argv[1])); print(sys.argv[2], 'equivalent' if v['equivalent'] else 'NOT EQUIVALENT', v['method'])" \
        "$out/$name.verdict.json" "$f"
done
