"""Byte-identity harness: sha256 of the OpenQASM 3 output and the ebit count of every bundled benchmark.

Run it before and after a refactoring and compare (``--compare BASELINE.json``): every hash must
match, or the ebit count must be lower (and explained). ``python benchmarks/identity.py OUT.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from dqc_compiler import pipeline
from dqc_compiler.io import dumps_qasm3, load_circuit
from dqc_compiler.network import Network

CIRCUITS = Path(__file__).parent / "circuits"
#: Circuits above this many qubits are compiled only when named in ``LARGE`` (each compiles in < 10 s).
MAX_QUBITS = 20
LARGE = ("qft_noswap_32", "random_cz_32")
#: Few qubits but thousands of gates (about 4 minutes for its 12 cases): only with ``--all``.
SLOW = ("shor_15_7",)
LEVELS = (0, 1, 2, 3)
NETWORKS = ("qpus:2", "qpus:3", "line:3")
SEED = 1


def cases(include_slow: bool = False) -> list[tuple[str, str, int]]:
    """(circuit name, network spec, level) for every comparison."""
    names = []
    for path in sorted(CIRCUITS.glob("*.qasm")):
        if path.stem in SLOW and not include_slow:
            continue
        circuit = load_circuit(path)
        if circuit.num_qubits <= MAX_QUBITS or path.stem in LARGE:
            names.append(path.stem)
    return [(name, net, level) for name in names for net in NETWORKS for level in LEVELS]


def network_for(spec: str, num_qubits: int) -> Network:
    if spec.startswith("qpus:"):
        return Network.for_circuit(num_qubits, int(spec.split(":")[1]))
    return Network.from_spec(spec, num_qubits)


def run_case(name: str, spec: str, level: int) -> dict:
    """Compile one case; its output hash, ebits and seconds."""
    circuit = load_circuit(CIRCUITS / f"{name}.qasm")
    start = time.perf_counter()
    result = pipeline.compile(circuit, network_for(spec, circuit.num_qubits), seed=SEED, optimization_level=level)
    seconds = time.perf_counter() - start
    text = dumps_qasm3(result.circuit)
    return {
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "ebits": result.report["cost"]["ebits"],
        "seconds": round(seconds, 2),
    }


def compare(baseline: dict, current: dict) -> int:
    """Print the differences over the cases both runs have; 0 when every output is byte-identical."""
    same, lower, worse = 0, [], []
    shared = [key for key in baseline if key in current]
    for key in shared:
        old, new = baseline[key], current[key]
        if new["sha256"] == old["sha256"]:
            same += 1
        elif new["ebits"] < old["ebits"]:
            lower.append(f"{key}: {old['ebits']} -> {new['ebits']} ebits")
        else:
            worse.append(f"{key}: output differs ({old['ebits']} -> {new['ebits']} ebits)")
    print(f"{same}/{len(shared)} outputs byte-identical; {len(lower)} lower; {len(worse)} differ")
    for line in lower + worse:
        print("  " + line)
    return 0 if not worse and not lower else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="JSON file to write: case -> {sha256, ebits, seconds}")
    parser.add_argument("--compare", metavar="BASELINE.json", help="compare with an earlier run")
    parser.add_argument("--all", action="store_true", help=f"also the slow circuits ({', '.join(SLOW)})")
    args = parser.parse_args()
    results = {}
    for name, spec, level in cases(args.all):
        key = f"{name} {spec} -O{level}"
        results[key] = run_case(name, spec, level)
        print(key, results[key], flush=True)
    Path(args.output).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    if args.compare:
        return compare(json.loads(Path(args.compare).read_text()), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
