"""Benchmark runner: compile every circuit in benchmarks/circuits/ at k = 2, 3, 4 and write results.md.

    python benchmarks/run.py                      # all circuits, k = 2 3 4, writes benchmarks/results.md
    python benchmarks/run.py --k 2 --only qft     # a subset, printed only (use --output to write)

Each row: ebits and the rest of the report's cost, compile time, and the verification that ran
(`auto` up to --full-verify-up-to qubits, the Clifford-ised stabilizer check above that).
Published numbers (DESIGN.md / issue tracker) are shown beside ours where they exist.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

from rich.progress import Progress

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from dqc_compiler import compile as compile_circuit  # noqa: E402
from dqc_compiler.io import load_circuit  # noqa: E402
from dqc_compiler.verify import verify  # noqa: E402

#: Best published ebit counts, QFT without final swaps, equal-size QPUs (see the issue tracker).
PUBLISHED = {
    ("qft_noswap_8", 2): 4, ("qft_noswap_10", 2): 5, ("qft_noswap_8", 3): 7,
    ("qft_noswap_10", 3): 8, ("qft_noswap_32", 2): 15, ("qft_noswap_32", 4): 42,
}


def run(files: list[Path], ks: list[int], full_verify_up_to: int, seed: int) -> list[dict]:
    rows = []
    with Progress(transient=True) as progress:
        task = progress.add_task("benchmarks", total=len(files) * len(ks))
        for path in files:
            circuit = load_circuit(path)
            for k in ks:
                progress.update(task, description=f"{path.stem} k={k}")
                result = compile_circuit(circuit, qpus=k, seed=seed)
                method = "auto" if circuit.num_qubits <= full_verify_up_to else "stabilizer"
                start = time.perf_counter()
                verdict = verify(circuit, result.circuit, method=method, seed=seed)
                report = result.report
                rows.append({
                    "circuit": path.stem, "n": circuit.num_qubits, "two_qubit": report["input"]["num_2q_gates"],
                    "k": k, **report["cost"], "rounds": report["schedule"]["comm_rounds"],
                    "compile_s": report["timing"]["compile_seconds"], "verify": verdict.method,
                    "verify_s": round(time.perf_counter() - start, 2), "equivalent": verdict.equivalent,
                    "published": PUBLISHED.get((path.stem, k)),
                })
                progress.advance(task)
    return rows


def to_markdown(rows: list[dict], command: str) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, " \
              f"qiskit {version('qiskit')}, qiskit-aer {version('qiskit-aer')}, pymetis {version('pymetis')}"
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{command}` on {datetime.date.today().isoformat()} ({machine}).",
        "",
        "Optimisation: one telegate per nonlocal two-qubit gate (no bursts yet), METIS partition with",
        "capacity repair and refinement, equal QPUs of capacity ceil(n/k), 2 comm qubits each.",
        "`published` is the best published ebit count for the same circuit and k, where one exists.",
        "",
        "| circuit | n | 2q gates | k | ebits | published | nonlocal gates | classical bits | comm rounds "
        "| compile s | verification | verify s | equivalent |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['circuit']} | {r['n']} | {r['two_qubit']} | {r['k']} | {r['ebits']} | {r['published'] or ''} "
            f"| {r['nonlocal_gates']} | {r['classical_bits']} | {r['rounds']} | {r['compile_s']:.3f} "
            f"| {r['verify']} | {r['verify_s']:.2f} | {'yes' if r['equivalent'] else '**NO**'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, nargs="+", default=[2, 3, 4], help="numbers of QPUs (default: 2 3 4)")
    parser.add_argument("--only", default="", help="only circuits whose file name contains this")
    parser.add_argument("--full-verify-up-to", type=int, default=16, metavar="N",
                        help="run the full `auto` verification up to N qubits, the stabilizer check above (default 16)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default=None,
                        help="markdown file to write (default: benchmarks/results.md for a full run, none otherwise)")
    args = parser.parse_args(argv)
    files = sorted((HERE / "circuits").glob("*.qasm"), key=lambda p: (load_circuit(p).num_qubits, p.name))
    files = [f for f in files if args.only in f.stem]
    rows = run(files, args.k, args.full_verify_up_to, args.seed)
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = to_markdown(rows, command.strip())
    output = args.output or (None if args.only or args.k != [2, 3, 4] else HERE / "results.md")
    if output:
        Path(output).write_text(text)
    print(text)
    return 0 if all(r["equivalent"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
