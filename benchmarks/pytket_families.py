"""Generators for pytket-dqc's circuit families, written as pytket exports them (``h``, ``rz``, ``cu1``).

    python benchmarks/pytket_families.py OUT_DIR                 # 32 qubits, 2 and 4 servers, seed 0
    python benchmarks/pytket_families.py OUT_DIR --qubits 24 --servers 3 --seed 7
    python benchmarks/pytket_dqc.py OUT_DIR                      # then compile them like the sample

So that an improvement measured on the published sample can be checked on fresh instances of the
same families (the generated folders have no published numbers: ``published_best`` is null).

* ``cz_fraction_F`` (Sundaram et al. 2021, as in pytket-dqc's experiments): ``depth`` layers; in
  each, every qubit gets an ``h`` with probability 1 - F, the others are paired at random for
  ``cz``.
* ``pauli``: ``gadgets`` random Pauli strings on 2 or 3 random qubits (X, Y or Z each), each
  exponentiated as a basis change, ``cx`` from the others onto the last one, ``rz``, and back.
* ``random_crz``: ``depth`` layers of ``crz`` with random angles on a random pairing of the qubits,
  each written as pytket decomposes it: ``rz``, ``cx``, ``rz``, ``cx`` on the target.

Every ``cz`` is written ``cu1(pi)`` and every ``cx`` as ``h t; cu1(pi) c, t; h t``; ``h`` pairs that
meet on a wire cancel, as in pytket's export. The gate counts of the cz_fraction circuits match the
sample's within a few percent; those of the other two families are only of the same kind.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit.library import CU1Gate


def _cz(qc: QuantumCircuit, a: int, b: int) -> None:
    qc.append(CU1Gate(math.pi), [a, b])


def _cx(qc: QuantumCircuit, c: int, t: int) -> None:
    qc.h(t)
    _cz(qc, c, t)
    qc.h(t)


def cancel_hh(qc: QuantumCircuit) -> QuantumCircuit:
    """``qc`` without pairs of ``h`` that meet on a wire (pytket's export simplifies them away)."""
    kept: list = []
    last: dict = {}  # wire -> position in kept of the last operation on it
    for inst in qc.data:
        wire = inst.qubits[0]
        if inst.operation.name == "h" and wire in last and kept[last[wire]].operation.name == "h":
            kept[last[wire]] = None
            del last[wire]
            continue
        kept.append(inst)
        for q in inst.qubits:
            last[q] = len(kept) - 1
    out = qc.copy_empty_like()
    for inst in kept:
        if inst is not None:
            out.append(inst)
    return out


def cz_fraction(n: int, fraction: float, depth: int | None = None, seed: int = 0) -> QuantumCircuit:
    """``depth`` (default ``n``) layers of ``h`` (probability 1 - ``fraction`` per qubit) and random ``cz``
    pairs of the rest."""
    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(n, name=f"cz_fraction_{fraction}")
    for _ in range(depth or n):
        pool = []
        for q in range(n):
            if rng.random() > fraction:
                qc.h(q)
            else:
                pool.append(q)
        pool = [int(q) for q in rng.permutation(pool)]
        for a, b in zip(pool[0::2], pool[1::2]):
            _cz(qc, a, b)
    return cancel_hh(qc)


def pauli(n: int, gadgets: int | None = None, seed: int = 0) -> QuantumCircuit:
    """``gadgets`` (default ``8 n``) random Pauli exponentials on 2 or 3 qubits each."""
    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(n, name="pauli")
    for _ in range(gadgets or 8 * n):
        support = sorted(int(q) for q in rng.choice(n, size=int(rng.integers(2, 4)), replace=False))
        letters = {q: "XYZ"[int(rng.integers(3))] for q in support}
        _basis(qc, letters, into=True)
        *others, target = support
        for q in others:
            _cx(qc, q, target)
        qc.rz(float(rng.uniform(0, 2 * math.pi)), target)
        for q in reversed(others):
            _cx(qc, q, target)
        _basis(qc, letters, into=False)
    return cancel_hh(qc)


def _basis(qc: QuantumCircuit, letters: dict[int, str], into: bool) -> None:
    """Rotate X (``h``) or Y (``rz(-pi/2)``, ``h``) into Z, or back."""
    for q, letter in letters.items():
        if letter == "X":
            qc.h(q)
        elif letter == "Y" and into:
            qc.rz(-math.pi / 2, q)
            qc.h(q)
        elif letter == "Y":
            qc.h(q)
            qc.rz(math.pi / 2, q)


def random_crz(n: int, depth: int | None = None, seed: int = 0) -> QuantumCircuit:
    """``depth`` layers (default ``n``) of ``crz`` on a random pairing, decomposed as pytket does."""
    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(n, name="random_crz")
    for _ in range(depth or n):
        order = [int(q) for q in rng.permutation(n)]
        for c, t in zip(order[0::2], order[1::2]):
            theta = float(rng.uniform(0, 2 * math.pi))
            qc.rz(theta / 2, t)
            _cx(qc, c, t)
            qc.rz(-theta / 2, t)
            _cx(qc, c, t)
    return cancel_hh(qc)


def families(n: int, seed: int) -> dict[str, QuantumCircuit]:
    """One circuit of each family on ``n`` qubits."""
    found = {f"cz_fraction_{f}": cz_fraction(n, f, seed=seed) for f in (0.1, 0.3, 0.5, 0.7, 0.9)}
    found["pauli"] = pauli(n, seed=seed)
    found["random_crz"] = random_crz(n, seed=seed)
    return found


def write_instances(folder: Path, n: int, servers: list[int], seed: int) -> list[Path]:
    """An instance folder per family and server count, in the sample's layout."""
    from qiskit import qasm2  # noqa: PLC0415

    written = []
    for family, circuit in families(n, seed).items():
        for k in servers:
            path = folder / f"all_to_all_{k}_{n}__{family}_{n}q_seed{seed}"
            path.mkdir(parents=True, exist_ok=True)
            (path / "circuit.qasm").write_text(qasm2.dumps(circuit))
            size = math.ceil(n / k)
            network = {"qpus": [{"name": f"s{i}", "data_qubits": size, "comm_qubits": 2} for i in range(k)],
                       "links": [{"between": [f"s{i}", f"s{j}"]} for i in range(k) for j in range(i + 1, k)]}
            (path / "network.json").write_text(json.dumps(network, indent=1))
            meta = {"circuit_type": family, "qubits": n, "servers": k, "network": "all_to_all",
                    "generated": f"benchmarks/pytket_families.py seed {seed}", "published_best": None}
            (path / "published.json").write_text(json.dumps(meta, indent=1))
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="where to write the instance folders")
    parser.add_argument("--qubits", type=int, default=32)
    parser.add_argument("--servers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for path in write_instances(Path(args.folder), args.qubits, args.servers, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
