"""Scale: seconds per stage and peak memory of large compiles, and how the time grows with n.

    python benchmarks/scale.py                     # the issue's cases + growth series -> scale.md, scale.png
    python benchmarks/scale.py --cases qft_360_k20 sparse_1000_k16 --no-growth
    python benchmarks/scale.py --timeout 600 --json scale.jsonl

Each case runs in a fresh subprocess (so its peak resident memory is its own), at the default
``-O 2`` and seed 0, and is timed per pass of the pipeline's pass manager (qiskit's ``callback``), plus
the report and the OpenQASM 3 text. Circuits:

- ``qft_N_kK``: ``synth_qft_full(N, do_swaps=False)`` on K all-to-all QPUs (2 comm qubits each).
- ``sparse_N_kK``: N qubits, 5 layers of CZ on a random perfect matching, each followed by an
  ``rx`` of a random angle on every qubit (seeded).
- ``random_N_G_kK``: N qubits, G ``cx`` gates on random pairs, each target followed by an ``rz``.

Results go to ``--out`` (markdown, default ``benchmarks/scale.md``) and the growth plot to
``--plot``; ``--json`` keeps one JSON line per case.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sections import write_section  # noqa: E402 - benchmarks/sections.py

#: Markers of the scale section in results.md (rewritten by this runner, kept by run.py).
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
CASES = ("qft_360_k20", "sparse_1000_k16", "random_1000_10000_k16", "qft_1000_k10")
GROWTH = {
    "qft": [("qft_50_k5", 50), ("qft_100_k6", 100), ("qft_200_k12", 200), ("qft_360_k20", 360)],
    "sparse (k = 16)": [("sparse_250_k16", 250), ("sparse_500_k16", 500), ("sparse_1000_k16", 1000),
                        ("sparse_2000_k16", 2000)],
}


def build(name: str):
    """The circuit and the number of QPUs of case ``name``."""
    from qiskit import QuantumCircuit  # noqa: PLC0415
    from qiskit.synthesis import synth_qft_full  # noqa: PLC0415

    parts = name.split("_")
    k = int(parts[-1][1:])
    rng = random.Random(0)
    if parts[0] == "qft":
        return synth_qft_full(int(parts[1]), do_swaps=False), k
    n = int(parts[1])
    circuit = QuantumCircuit(n)
    if parts[0] == "sparse":
        for _layer in range(5):
            order = list(range(n))
            rng.shuffle(order)
            for a, b in zip(order[::2], order[1::2]):
                circuit.cz(a, b)
            for q in range(n):
                circuit.rx(rng.uniform(0, 3.14), q)
        return circuit, k
    if parts[0] == "random":
        for _gate in range(int(parts[2])):
            a, b = rng.sample(range(n), 2)
            circuit.cx(a, b)
            circuit.rz(rng.uniform(0, 3.14), b)
        return circuit, k
    raise SystemExit(f"unknown case {name}")


def measure(name: str) -> dict:
    """Compile case ``name`` in this process: seconds per stage, ebits, peak memory."""
    from dqc_compiler import Network  # noqa: PLC0415
    from dqc_compiler.io import dumps_qasm3  # noqa: PLC0415
    from dqc_compiler.passes.schedule import in_schedule_order  # noqa: PLC0415
    from dqc_compiler.pipeline import generate_dqc_pass_manager  # noqa: PLC0415
    from dqc_compiler.report import build_report  # noqa: PLC0415

    circuit, k = build(name)
    network = Network.for_circuit(circuit.num_qubits, k)
    stages: dict[str, float] = {}

    def callback(pass_, time, **_):  # noqa: A002 - qiskit's keyword
        key = type(pass_).__name__
        stages[key] = stages.get(key, 0.0) + time

    start = time.perf_counter()
    manager = generate_dqc_pass_manager(network, seed=0)
    distributed = manager.run(circuit, callback=callback)
    tick = time.perf_counter()
    distributed = in_schedule_order(distributed, manager.property_set["dqc_timeline"])
    report = build_report(circuit, network, dict(manager.property_set), distributed,
                          compile_seconds=tick - start, optimization_level=2)
    stages["report"] = time.perf_counter() - tick
    tick = time.perf_counter()
    text = dumps_qasm3(distributed)
    stages["write OpenQASM 3"] = time.perf_counter() - tick
    return {
        "case": name, "qubits": circuit.num_qubits, "k": k,
        "two_qubit_gates": sum(1 for i in circuit.data if i.operation.num_qubits == 2),
        "ebits": report["cost"]["ebits"], "seconds": round(time.perf_counter() - start, 2),
        "stages": {key: round(value, 2) for key, value in stages.items()},
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "output_chars": len(text),
    }


def run_case(name: str, timeout: float) -> dict:
    """:func:`measure` in a fresh Python process (its own peak memory), or why it did not finish."""
    try:
        done = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"case": name, "error": f"did not finish in {timeout:g} s"}
    if done.returncode != 0:
        return {"case": name, "error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> list[str]:
    lines = ["| case | qubits | 2q gates | k | ebits | seconds | peak MB | slowest stages (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['case']} | | | | | {r['error']} | | |")
            continue
        slow = sorted(r["stages"].items(), key=lambda kv: -kv[1])[:4]
        lines.append(f"| {r['case']} | {r['qubits']} | {r['two_qubit_gates']} | {r['k']} | {r['ebits']} | "
                     f"{r['seconds']} | {r['peak_mb']} | {', '.join(f'{k} {v}' for k, v in slow)} |")
    return lines


def plot(results: dict[str, dict], path: Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, axes = plt.subplots(figsize=(6, 4))
    for label, series in GROWTH.items():
        points = [(n, results[name]["seconds"]) for name, n in series if "seconds" in results.get(name, {})]
        if points:
            axes.loglog(*zip(*points), marker="o", label=label)
    axes.set_xlabel("qubits n")
    axes.set_ylabel("compile seconds (-O 2)")
    axes.set_title("dqc compile: time against circuit size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--no-growth", action="store_true", help="skip the growth series and the plot")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per case (default 900)")
    parser.add_argument("--out", default=str(HERE / "scale.md"))
    parser.add_argument("--plot", default=str(HERE / "scale.png"))
    parser.add_argument("--json", default=None, help="also write one JSON line per case here")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one)))
        return 0
    names = list(dict.fromkeys(args.cases + ([] if args.no_growth else [n for s in GROWTH.values() for n, _ in s])))
    results = {}
    for name in names:
        results[name] = run_case(name, args.timeout)
        print(json.dumps(results[name]), file=sys.stderr, flush=True)
    if args.json:
        Path(args.json).write_text("".join(json.dumps(r) + "\n" for r in results.values()))
    command = "python benchmarks/scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = ["# Scale", "", f"Produced by `{command.strip()}` on {time.strftime('%Y-%m-%d')} (2-core machine; "
             "each case in its own process; `-O 2`, seed 0; see the docstring of `benchmarks/scale.py`).", ""]
    lines += table([results[n] for n in names])
    if not args.no_growth:
        plot(results, Path(args.plot))
        lines += ["", f"Growth: ![time against n]({Path(args.plot).name})"]
    Path(args.out).write_text("\n".join(lines) + "\n")
    if Path(args.out).resolve() == (HERE / "scale.md").resolve():
        splice(HERE / "results.md", lines, args.plot)
    return 0


def splice(results: Path, lines: list[str], plot_path: str) -> None:
    """Put the table into results.md between :data:`BEGIN` and :data:`END` (appended the first time)."""
    section = "\n".join([BEGIN, "## Scale (large circuits: seconds and memory)", "",
                         *lines[2:], "", "Per-pass seconds of every case: [scale.md](scale.md).", END])
    write_section(results, section + "\n", BEGIN, END)


if __name__ == "__main__":
    sys.exit(main())
