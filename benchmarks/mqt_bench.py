"""MQT Bench through compile and verify: circuits we did not write, checked like the random fuzz.

    pip install -e ".[bench]"                      # mqt.bench (generates the circuits locally)
    python benchmarks/mqt_bench.py                 # sizes 4 6 8, levels alg and indep, k = 2 and 3
    python benchmarks/mqt_bench.py --sizes 5 10 --k 2 4 --jsonl /tmp/mqt.jsonl --out /tmp/mqt.md

Every benchmark MQT Bench offers (``mqt.bench.benchmarks.get_available_benchmark_names``) at each
size it can generate, at its ``alg`` level (high-level gates: QFT blocks, multi-controlled gates,
``unitary``) and its ``indep`` level (qiskit's target-independent basis), is compiled over k
all-to-all QPUs (2 comm qubits each) and on a line of k QPUs, at ``-O 2``, through an OpenQASM 3
file. Each is checked as ``benchmarks/fuzz.py`` checks a case (:func:`fuzz.check_case`): the output
contract, ``verify`` (auto) and the Clifford-ised stabilizer check, an independent exact check up to
``--exact-width`` qubits, and a deliberately broken copy that ``verify`` must catch. A benchmark or
size MQT Bench cannot generate is listed as skipped; one the compiler refuses is counted with its
message. Records go to ``--jsonl`` (one line a case; cases already there are skipped), the summary
to ``--out`` (default ``benchmarks/mqt_bench.md``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from fuzz import check_case, classify  # noqa: E402

from dqc_compiler import Network  # noqa: E402
from dqc_compiler.errors import DQCError  # noqa: E402
from dqc_compiler.io import dumps_qasm3, loads_circuit  # noqa: E402


def generate(name: str, size: int, level: str):
    """The MQT Bench circuit, or the reason it cannot be generated."""
    from mqt.bench import BenchmarkLevel, get_benchmark  # noqa: PLC0415 - an optional dependency

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return get_benchmark(name, BenchmarkLevel[level.upper()], size), None
        except Exception as exc:  # noqa: BLE001 - MQT Bench refuses some sizes in its own ways
            return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:160]


def cases(names: list[str], sizes: list[int], levels: list[str], ks: list[int], networks: list[str]):
    index = 0
    for name in names:
        for size in sizes:
            for level in levels:
                for k in ks:
                    for kind in networks:
                        yield {"index": index, "benchmark": name, "size": size, "mqt_level": level, "k": k,
                               "network": kind, "level": 2, "format": "qasm3"}
                        index += 1


def run(case: dict, exact_width: int) -> dict:
    record = dict(case)
    circuit, why = generate(case["benchmark"], case["size"], case["mqt_level"])
    if circuit is None:
        record.update(outcome="skipped", message=why)
        return record
    try:
        text = dumps_qasm3(circuit)
    except Exception as exc:  # noqa: BLE001 - qiskit cannot write it (a matrix parameter): compile the object
        record.update(format="object", export_error=f"{type(exc).__name__}: {exc}"[:160])
    else:
        try:
            circuit = loads_circuit(text)  # as a user's file would arrive
        except DQCError as exc:
            record.update(outcome="refused", message=f"OpenQASM 3 round trip: {exc}")
            return record
    record["qubits"] = circuit.num_qubits
    k = min(case["k"], circuit.num_qubits)
    try:
        network = (Network.for_circuit(circuit.num_qubits, k, 2) if case["network"] == "qpus"
                   else Network.from_spec(f"line:{k},comm=2", circuit.num_qubits))
    except DQCError as exc:
        record.update(outcome="refused", message=str(exc))
        return record
    return check_case(record, circuit, network, exact_width)


def summarise(records: list[dict], command: str) -> str:
    tally, flagged = Counter(), []
    for record in records:
        labels = ["skipped"] if record.get("outcome") == "skipped" else classify(record)
        for label in labels:
            tally[label] += 1
        if any(label not in ("skipped", "refused") for label in labels):
            flagged.append((record, labels))
    ok = [r for r in records if r.get("outcome") == "ok"]
    caught = sum(1 for r in ok if r.get("broken_caught"))
    tried = sum(1 for r in ok if "broken_caught" in r)
    lines = [
        "# MQT Bench through compile and verify",
        "",
        f"Produced by `{command}` (see the docstring of `benchmarks/mqt_bench.py`; MQT Bench "
        f"{_mqt_version()}).",
        "",
        f"- cases: **{len(records)}**; compiled and verified: {len(ok)}; refused with a one-line error: "
        f"{tally['refused']}; not generated by MQT Bench at that size: {tally['skipped']}",
        f"- wrong outputs (independent exact check): **{tally['wrong output']}**",
        f"- verifier false alarms: **{tally['false alarm (verify)']}** (`auto`), "
        f"**{tally['false alarm (stabilizer)']}** (Clifford-ised stabilizer check)",
        f"- contract violations: **{tally['contract violation']}**; tracebacks: **{tally['traceback']}**",
        f"- broken copies caught by `verify`: {caught} of {tried}; provably broken and missed: "
        f"**{tally['broken copy not caught']}**; passed without an exact cross-check (may be harmless): "
        f"{tally['broken copy passed (no exact cross-check)']}",
        f"- NOT equivalent where no exact cross-check ran: {tally['NOT equivalent (no exact cross-check)']}",
        "",
        "## Per benchmark (ebits at -O 2: all-to-all / line, per size and k; level alg, then indep)",
        "",
        "| benchmark | size | k | alg | indep | methods |",
        "|---|---:|---:|---|---|---|",
    ]
    lines += _per_benchmark(records)
    refused = sorted({(r["benchmark"], r.get("message", "")[:120]) for r in records if r.get("outcome") == "refused"})
    if refused:
        lines += ["", "## Refused", "", "| benchmark | message |", "|---|---|"]
        lines += [f"| {name} | {message.replace('|', '/')} |" for name, message in refused]
    if flagged:
        lines += ["", "## Flagged cases", "", "| index | benchmark | size | level | k | network | what |",
                  "|---|---|---:|---|---:|---|---|"]
        lines += [f"| {r['index']} | {r['benchmark']} | {r['size']} | {r['mqt_level']} | {r['k']} | {r['network']} "
                  f"| {', '.join(labels)} |" for r, labels in flagged]
    return "\n".join(lines) + "\n"


def _per_benchmark(records: list[dict]) -> list[str]:
    cells: dict = {}
    methods: dict = {}
    for r in records:
        key = (r["benchmark"], r["size"], r["k"])
        value = r["ebits"] if r.get("outcome") == "ok" else {"refused": "refused", "skipped": "–"}.get(
            r.get("outcome"), r.get("outcome"))
        if r.get("outcome") == "ok" and not r.get("verify"):
            value = f"{value} (NOT equivalent)"
        cells.setdefault(key, {}).setdefault(r["mqt_level"], {})[r["network"]] = value
        if r.get("verify_method"):
            methods.setdefault(key, set()).add(r["verify_method"].split("+")[0])
    rows = []
    for (name, size, k), by_level in sorted(cells.items()):
        def cell(level):
            nets = by_level.get(level, {})
            return " / ".join(str(nets.get(n, "")) for n in ("qpus", "line"))
        rows.append(f"| {name} | {size} | {k} | {cell('alg')} | {cell('indep')} | "
                    f"{', '.join(sorted(methods.get((name, size, k), [])))} |")
    return rows


def _mqt_version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("mqt.bench")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmarks", nargs="*", default=None, help="names (default: every one MQT Bench has)")
    parser.add_argument("--sizes", nargs="*", type=int, default=[4, 6, 8])
    parser.add_argument("--levels", nargs="*", default=["alg", "indep"], choices=["alg", "indep"])
    parser.add_argument("--k", nargs="*", type=int, default=[2, 3])
    parser.add_argument("--networks", nargs="*", default=["qpus", "line"], choices=["qpus", "line"])
    parser.add_argument("--exact-width", type=int, default=12)
    parser.add_argument("--jsonl", default=str(HERE / "mqt_bench.jsonl"))
    parser.add_argument("--out", default=str(HERE / "mqt_bench.md"))
    args = parser.parse_args(argv)
    try:
        from mqt.bench.benchmarks import get_available_benchmark_names  # noqa: PLC0415
    except ImportError:
        print("mqt_bench.py needs MQT Bench: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    names = args.benchmarks or get_available_benchmark_names()
    done = {}
    if Path(args.jsonl).exists():
        for line in Path(args.jsonl).read_text().splitlines():
            record = json.loads(line)
            done[record["index"]] = record
    todo = list(cases(names, args.sizes, args.levels, args.k, args.networks))
    with open(args.jsonl, "a") as sink:
        for number, case in enumerate(todo):
            if case["index"] in done and done[case["index"]]["benchmark"] == case["benchmark"]:
                continue
            start = time.perf_counter()
            record = run(case, args.exact_width)
            done[case["index"]] = record
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            labels = ["skipped"] if record.get("outcome") == "skipped" else classify(record)
            print(f"[{number + 1}/{len(todo)}] {case['benchmark']} n={case['size']} {case['mqt_level']} "
                  f"k={case['k']} {case['network']}: {record.get('ebits', record.get('outcome'))} "
                  f"{','.join(labels)} {time.perf_counter() - start:.1f}s", file=sys.stderr, flush=True)
    command = "python benchmarks/mqt_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    records = [done[c["index"]] for c in todo]
    Path(args.out).write_text(summarise(records, command.strip()))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
