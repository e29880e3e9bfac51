"""Shared helpers for the test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from qiskit import QuantumCircuit

from dqc_compiler.io import load_circuit

ROOT = Path(__file__).resolve().parent.parent
CIRCUITS = ROOT / "benchmarks" / "circuits"

# Hypothesis profiles. "default" (the plain `python -m pytest` and CI): derandomised, so every run
# draws the same examples and a red run is reproducible; no example database, no deadline (the
# machine may be busy). "random" (HYPOTHESIS_PROFILE=random): fresh random examples, RANDOM_SCALE
# times as many, for the separate property run (`-m property`, see docs/ci.md).
_COMMON = {"deadline": None, "print_blob": True, "database": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", derandomize=True, **_COMMON)
settings.register_profile("random", derandomize=False, max_examples=500, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)
RANDOM_SCALE = 5


def examples(n: int) -> int:
    """``max_examples`` for a property test: ``n`` in the default run (kept for its runtime),
    :data:`RANDOM_SCALE` times as many under the ``random`` profile."""
    return n * RANDOM_SCALE if PROFILE == "random" else n


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every Hypothesis test ``property`` (``-m property`` selects the property run)."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)


def benchmark_files(max_qubits: int | None = None) -> list[Path]:
    """Benchmark circuits, smallest first, optionally only those with at most ``max_qubits``."""
    files = sorted(CIRCUITS.glob("*.qasm"))
    if max_qubits is not None:
        files = [f for f in files if load_circuit(f).num_qubits <= max_qubits]
    return sorted(files, key=lambda f: (load_circuit(f).num_qubits, f.name))


def independent_contract_check(circuit: QuantumCircuit, report: dict) -> None:
    """Check the output contract from the emitted circuit alone, not from compiler bookkeeping.

    * one register per QPU, named after it, no larger than its data + comm qubits;
    * the number of ``epr`` operations equals ``cost.ebits``; each joins comm qubits (register
      slots past the QPU's data qubits) of two QPUs that the network links directly;
    * every other multi-qubit operation, and every ``if`` body, stays inside one register;
    * conditions test a single bit; ``if`` bodies hold only gates;
    * the layout puts no more input qubits on a QPU than its capacity.
    """
    qpus = {q["name"]: q for q in report["network"]["qpus"]}
    owner = {}
    for register in circuit.qregs:
        assert register.name in qpus, f"register {register.name} is no QPU"
        spec = qpus[register.name]
        assert register.size <= spec["data_qubits"] + spec["comm_qubits"]
        for qubit in register:
            owner[qubit] = register.name
    assert len(owner) == circuit.num_qubits, "a qubit outside the QPU registers"
    links = {frozenset(pair) for pair in report["network"]["links"]}
    data_slots: dict = {}
    for entry in report["layout"]["initial"]:
        data_slots[entry["qpu"]] = data_slots.get(entry["qpu"], 0) + 1
    eprs = 0
    for instruction in circuit.data:
        op = instruction.operation
        names = {owner[q] for q in instruction.qubits}
        if op.name == "epr":
            eprs += 1
            assert len(names) == 2, "epr inside one QPU"
            assert frozenset(names) in links, f"epr between unlinked QPUs {sorted(names)}"
            for q in instruction.qubits:
                assert circuit.find_bit(q).registers[0][1] >= data_slots.get(owner[q], 0), "epr on a data qubit"
            continue
        if op.name == "barrier":
            continue
        assert len(names) <= 1, f"{op.name} spans QPUs {names}"
        if op.name == "if_else":
            assert len(instruction.clbits) == 1
            for block in op.blocks:
                assert all(i.operation.name not in ("measure", "reset", "if_else") for i in block.data)
    assert eprs == report["cost"]["ebits"]
    for key in ("initial", "final"):
        per_qpu = {}
        for entry in report["layout"][key]:
            per_qpu[entry["qpu"]] = per_qpu.get(entry["qpu"], 0) + 1
        for name, count in per_qpu.items():
            assert count <= qpus[name]["data_qubits"], f"{name} over capacity in layout.{key}"


@pytest.fixture(scope="session")
def circuits_dir() -> Path:
    return CIRCUITS


# --- shared helpers of the pass and pipeline tests (helper "core") ------------------------------


def drop_first_correction(circuit: QuantumCircuit) -> QuantumCircuit | None:
    """``circuit`` with its first classically controlled correction (``if_else``) dropped: a broken
    output for negative controls. None when it has no correction."""
    broken = circuit.copy_empty_like()
    dropped = False
    for instruction in circuit.data:
        if not dropped and instruction.operation.name == "if_else":
            dropped = True
            continue
        broken.append(instruction)
    return broken if dropped else None


def rebuild(circuit: QuantumCircuit, instructions) -> QuantumCircuit:
    """``circuit``'s registers and metadata (the layout) with a new instruction list."""
    out = circuit.copy_empty_like()
    for instruction in instructions:
        out.append(instruction)
    return out


def run_core_passes(circuit: QuantumCircuit, network, partition: list[int], level: int = 2):
    """Bursts and telegates for ``circuit`` with a fixed ``partition`` (no search): the distributed
    circuit and the pass manager's ``property_set``."""
    from qiskit.transpiler import PassManager

    from dqc_compiler.passes import FixedPartition, GroupBursts, InsertTelegates
    from dqc_compiler.settings import settings_for

    manager = PassManager(
        [FixedPartition(network, partition), GroupBursts(network=network, settings=settings_for(level)),
         InsertTelegates(network)]
    )
    out = manager.run(circuit)
    return out, manager.property_set
