"""QASMBench circuits in DISQCO's capacity model: static (telegates only) against the hybrid plan (teledata).

    python benchmarks/qasmbench.py DIR                  # every *.qasm under DIR (QASMBench's large/, say)
    python benchmarks/qasmbench.py DIR --k 2 3 --verify # some k only; verify every output
    python benchmarks/qasmbench.py --standin            # no files: qiskit's quantum_volume(32, seed=7)
    python benchmarks/qasmbench.py --standin --verify --write   # and splice the table into results.md

QASMBench (github.com/pnnl/QASMBench) is not bundled: pass a folder of its files (``large/QV_n32/
QV_n32.qasm`` and so on; the folder is searched recursively). Every circuit is compiled on k
all-to-all QPUs of ``floor(n/k) + 1`` data qubits and 2 comm qubits each (DISQCO's runs, Burt et
al., Quantum 2026), at level 2, seed 1: once with ``teledata=False`` and once by default (the
hybrid plan kept only when it wins). DISQCO's published MLFM-R averages are shown where known.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from sections import write_section  # noqa: E402 - benchmarks/sections.py

from dqc_compiler import Network  # noqa: E402
from dqc_compiler import compile as compile_circuit  # noqa: E402
from dqc_compiler.io import load_circuit  # noqa: E402
from dqc_compiler.verify import VerificationUnavailable, verify  # noqa: E402

BEGIN, END = "<!-- qasmbench:begin -->", "<!-- qasmbench:end -->"
#: DISQCO MLFM-R on QASMBench large/ (floor(n/k)+1 data qubits per QPU; averages over seeds), k = 2, 3, 4.
DISQCO = {
    "QV_n32": (215.2, 350.4, 384.6),
    "qft_n63": (31, 60, 93),
    "adder_n64": (3.8, 7.2, 8.2),
    "qft_n29": (14, 28, 39),
}


def standin():
    """qiskit's quantum volume on 32 qubits in u3 + cx, as QASMBench's QV_n32 is written."""
    from qiskit import transpile  # noqa: PLC0415
    from qiskit.circuit.library import quantum_volume  # noqa: PLC0415

    circuit = transpile(quantum_volume(32, seed=7), basis_gates=["u3", "cx"], optimization_level=0)
    circuit.name = "QV_n32 (qiskit seed 7)"
    return circuit


def row(name: str, circuit, k: int, check: bool) -> dict:
    n = circuit.num_qubits
    network = Network.all_to_all(k, n // k + 1)
    start = time.perf_counter()
    static = compile_circuit(circuit, network, seed=1, teledata=False)
    middle = time.perf_counter()
    hybrid = compile_circuit(circuit, network, seed=1)
    end = time.perf_counter()
    found = {"circuit": name, "k": k, "static": static.report["cost"]["ebits"],
             "hybrid": hybrid.report["cost"]["ebits"], "moves": hybrid.report["cost"]["teledata"],
             "seconds": (round(middle - start, 1), round(end - middle, 1)),
             "disqco": DISQCO.get(name.split(" ")[0], (None,) * 3)[k - 2] if 2 <= k <= 4 else None}
    if check:
        try:
            found["verified"] = verify(circuit, hybrid.circuit, seed=1).equivalent
        except VerificationUnavailable as exc:
            found["verified"] = f"no verdict: {exc}"
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", help="a folder of QASMBench .qasm files (searched recursively)")
    parser.add_argument("--standin", action="store_true", help="qiskit's quantum_volume(32, seed=7) instead")
    parser.add_argument("--k", type=int, nargs="+", default=[2, 3, 4], help="numbers of QPUs (default 2 3 4)")
    parser.add_argument("--verify", action="store_true", help="verify every hybrid output")
    parser.add_argument("--write", action="store_true", help="splice the table into benchmarks/results.md")
    args = parser.parse_args(argv)
    if args.standin:
        circuits = [("QV_n32 (qiskit seed 7)", standin())]
    elif args.folder:
        paths = sorted(Path(args.folder).rglob("*.qasm"))
        if not paths:
            print(f"no .qasm files under {args.folder}", file=sys.stderr)
            return 2
        circuits = [(p.stem, load_circuit(p)) for p in paths]
    else:
        parser.error("give a folder of QASMBench files, or --standin")
    lines = ["| circuit | k | static (`--no-teledata`) | hybrid | moves | DISQCO MLFM-R | seconds (static, hybrid) |"
             + (" verified |" if args.verify else ""),
             "|---|---|---|---|---|---|---|" + ("---|" if args.verify else "")]
    print("\n".join(lines))
    for name, circuit in circuits:
        for k in args.k:
            r = row(name, circuit, k, args.verify)
            lines.append(f"| {name} | {k} | {r['static']} | {r['hybrid']} | {r['moves']} | "
                         f"{'' if r['disqco'] is None else r['disqco']} | {r['seconds'][0]}, {r['seconds'][1]} |"
                         + (f" {r['verified']} |" if args.verify else ""))
            print(lines[-1], flush=True)
    if args.write:
        section = "\n".join([
            BEGIN, "## Teledata: QASMBench-style circuits in DISQCO's capacity model", "",
            "k all-to-all QPUs of floor(n/k)+1 data and 2 comm qubits, -O 2, seed 1 "
            "(`python benchmarks/qasmbench.py " + ("--standin" if args.standin else "DIR") + "`). "
            "`static`: telegates only; `hybrid`: the default, qubits teleported between time windows "
            "(kept only when it wins; docs/cost-model.md, \"Teledata and hybrid partitioning\"). "
            "DISQCO's figures are its published averages on QASMBench's own QV_n32, a different random "
            "instance of the same family.", "", *lines, END, ""])
        write_section(HERE / "results.md", section, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
