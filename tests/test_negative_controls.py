"""Negative controls: deliberately broken distributed circuits must be caught by the equivalence check.

Each test compiles a small circuit, edits the output's instruction list in one place (a wrong or
missing Pauli correction, a gate on the wrong QPU, a dropped ``epr``, a changed angle) and asserts
that :func:`dqc_compiler.verify.verify` — with every method that can see the change — and
``dqc verify`` (exit 1) reject it. The unbroken output must pass the same checks, so the test can
fail both ways.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import IfElseOp
from qiskit.circuit.library import CPhaseGate

import dqc_compiler
from dqc_compiler.cli import main
from dqc_compiler.io import circuit_writer, load_circuit
from dqc_compiler.verify import verify

from .conftest import rebuild as _rebuild

CIRCUITS_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "circuits"
SIM_METHODS = ("exact", "random", "stabilizer")
SEED = 11


def _random_circuit() -> QuantumCircuit:
    """A random 5-qubit circuit of cx, cp, h and rz (fixed seed); every qubit is touched."""
    rng = np.random.default_rng(2024)
    qc = QuantumCircuit(5, name="random5")
    for q in range(5):
        qc.h(q)
    for _ in range(24):
        kind = int(rng.integers(4))
        a, b = (int(x) for x in rng.choice(5, size=2, replace=False))
        if kind == 0:
            qc.cx(a, b)
        elif kind == 1:
            qc.cp(float(rng.uniform(0.2, 3.0)), a, b)
        elif kind == 2:
            qc.h(a)
        else:
            qc.rz(float(rng.uniform(0.2, 3.0)), a)
    return qc


@lru_cache(maxsize=None)
def _original(name: str) -> QuantumCircuit:
    if name == "random5":
        return _random_circuit()
    return load_circuit(CIRCUITS_DIR / f"{name}.qasm")


@lru_cache(maxsize=None)
def _compiled(name: str, k: int):
    result = dqc_compiler.compile(_original(name), qpus=k, seed=SEED)
    assert result.report["cost"]["ebits"] > 0, "the negative controls need a circuit that communicates"
    return result


CASES = [("qft_noswap_4", 2), ("qft_noswap_4", 3), ("random5", 2), ("random5", 3)]
CASE_IDS = [f"{name}-k{k}" for name, k in CASES]


# ---------------------------------------------------------------------- editing helpers
def _owner(circuit: QuantumCircuit, qubit) -> str:
    return circuit.find_bit(qubit).registers[0][0].name


def _data_positions(result) -> list:
    """The distributed circuit's qubits that hold input qubits (from the report's layout)."""
    registers = {r.name: r for r in result.circuit.qregs}
    layout = result.report["layout"]
    return list(dict.fromkeys(registers[e["qpu"]][e["index"]] for e in layout["initial"] + layout["final"]))


def _if_positions(circuit: QuantumCircuit, gate: str) -> list[int]:
    """Positions of ``if`` instructions whose body applies ``gate``."""
    return [
        i for i, inst in enumerate(circuit.data)
        if isinstance(inst.operation, IfElseOp)
        and any(inner.operation.name == gate for inner in inst.operation.blocks[0].data)
    ]


def wrong_correction(result, gate: str, replacement: str) -> QuantumCircuit:
    """Turn the ``gate`` (x or z) in the first ``if`` body that applies it into ``replacement``."""
    circuit = result.circuit
    positions = _if_positions(circuit, gate)
    assert positions, f"no '{gate}' correction to break"
    data = list(circuit.data)
    instruction = data[positions[0]]
    op = instruction.operation
    body = op.blocks[0]
    new_body = body.copy_empty_like()
    for inner in body.data:
        if inner.operation.name == gate:
            getattr(new_body, replacement)(inner.qubits[0])
        else:
            new_body.append(inner)
    else_body = op.blocks[1] if len(op.blocks) > 1 else None
    data[positions[0]] = instruction.replace(operation=IfElseOp(op.condition, new_body, else_body))
    return _rebuild(circuit, data)


def missing_correction(result, gate: str) -> QuantumCircuit:
    """Drop the first ``if`` instruction that applies ``gate``."""
    positions = _if_positions(result.circuit, gate)
    assert positions, f"no '{gate}' correction to drop"
    data = list(result.circuit.data)
    del data[positions[0]]
    return _rebuild(result.circuit, data)


def dropped_epr(result) -> QuantumCircuit:
    data = list(result.circuit.data)
    positions = [i for i, inst in enumerate(data) if inst.operation.name == "epr"]
    assert positions
    del data[positions[0]]
    return _rebuild(result.circuit, data)


def changed_angle(result) -> QuantumCircuit:
    """Add pi/2 to the angle of the first ``cp``."""
    data = list(result.circuit.data)
    positions = [i for i, inst in enumerate(data) if inst.operation.name == "cp"]
    assert positions, "no cp to change"
    instruction = data[positions[0]]
    angle = float(instruction.operation.params[0])
    data[positions[0]] = instruction.replace(operation=CPhaseGate(angle + math.pi / 2))
    return _rebuild(result.circuit, data)


def two_qubit_gate_across_qpus(result) -> QuantumCircuit:
    """Move one qubit of a local two-qubit gate (not ``epr``) to a data qubit of another QPU."""
    circuit = result.circuit
    data_positions = _data_positions(result)
    data = list(circuit.data)
    candidates = [
        i for i, inst in enumerate(data)
        if inst.operation.num_qubits == 2 and inst.operation.name not in ("epr", "barrier")
        and not isinstance(inst.operation, IfElseOp)
    ]
    # prefer a gate between two data qubits (not one acting on a cat-entangled copy)
    candidates.sort(key=lambda i: not all(q in data_positions for q in data[i].qubits))
    assert candidates, "no local two-qubit gate to move"
    instruction = data[candidates[0]]
    here = _owner(circuit, instruction.qubits[1])
    elsewhere = [q for q in data_positions if _owner(circuit, q) != here]
    assert elsewhere
    qubits = (instruction.qubits[0], elsewhere[0])
    data[candidates[0]] = instruction.replace(qubits=qubits)
    return _rebuild(circuit, data)


def one_qubit_gate_on_wrong_qpu(result) -> QuantumCircuit:
    """Move the first ``h`` on a data qubit to a data qubit of another QPU (still a local op)."""
    circuit = result.circuit
    data_positions = _data_positions(result)
    data = list(circuit.data)
    positions = [i for i, inst in enumerate(data) if inst.operation.name == "h" and inst.qubits[0] in data_positions]
    assert positions, "no h on a data qubit"
    instruction = data[positions[0]]
    here = _owner(circuit, instruction.qubits[0])
    elsewhere = [q for q in data_positions if _owner(circuit, q) != here]
    data[positions[0]] = instruction.replace(qubits=(elsewhere[0],))
    return _rebuild(circuit, data)


# name -> (breaker, methods that must catch it, caught structurally before any simulation)
BREAKAGES = {
    "correction-z-to-x": (lambda r: wrong_correction(r, "z", "x"), SIM_METHODS, False),
    "correction-x-to-z": (lambda r: wrong_correction(r, "x", "z"), SIM_METHODS, False),
    "missing-z-correction": (lambda r: missing_correction(r, "z"), SIM_METHODS, False),
    "missing-x-correction": (lambda r: missing_correction(r, "x"), SIM_METHODS, False),
    "2q-gate-across-qpus": (two_qubit_gate_across_qpus, SIM_METHODS, True),
    "1q-gate-on-wrong-qpu": (one_qubit_gate_on_wrong_qpu, SIM_METHODS, False),
    "dropped-epr": (dropped_epr, SIM_METHODS, False),
    # The stabilizer check Clifford-ises every gate (angles snapped to multiples of pi/2), so it
    # checks the distribution logic, not rotation angles: a changed angle is in general invisible
    # to it. Only the exact and random checks are required to see it.
    "changed-cp-angle": (changed_angle, ("exact", "random"), False),
}


# ---------------------------------------------------------------------- tests
@pytest.mark.parametrize("name, k", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("method", SIM_METHODS)
def test_unbroken_output_verifies(name, k, method):
    result = _compiled(name, k)
    verdict = verify(_original(name), result.circuit, layout=result.report["layout"], method=method, seed=SEED)
    assert verdict.equivalent, verdict
    assert verdict.checks and all(c.figure == pytest.approx(1.0, abs=1e-9) for c in verdict.checks)


@pytest.mark.parametrize("name, k", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_broken_output_is_caught(name, k, breakage):
    breaker, methods, structural = BREAKAGES[breakage]
    result = _compiled(name, k)
    original = _original(name)
    broken = breaker(result)
    assert broken != result.circuit
    assert sum(i.operation.name == "epr" for i in broken.data) <= result.report["cost"]["ebits"]
    for method in methods:
        verdict = verify(original, broken, layout=result.report["layout"], method=method, seed=SEED)
        assert not verdict.equivalent, f"{breakage} not caught by {method}: {verdict}"
        if structural:
            assert verdict.method == "contract", verdict
            assert "several QPUs" in verdict.reason
        else:
            assert verdict.method != "contract", f"{breakage} should reach the simulator: {verdict.reason}"
            assert any(c.figure < 1.0 for c in verdict.checks)


@pytest.mark.parametrize("name, k", CASES[::2], ids=CASE_IDS[::2])  # each circuit once: the CLI is the slow part
def test_cli_verify_exit_codes(tmp_path, capsys, name, k):
    """``dqc verify ORIGINAL BROKEN.qasm --report R.json``: 0 for the real output, 1 for every broken one.

    The files go through OpenQASM 3 and back, so this also checks the broken edits survive the round trip.
    """
    result = _compiled(name, k)
    original_path = tmp_path / "original.qasm"
    circuit_writer(original_path, _original(name))()
    report_path = tmp_path / "report.json"
    report_path.write_text(json.dumps(result.report))

    good = tmp_path / "good.qasm"
    circuit_writer(good, result.circuit)()
    assert main(["verify", str(original_path), str(good), "--report", str(report_path)]) == 0
    assert json.loads(report_path.read_text())["verification"]["equivalent"] is True

    for breakage, (breaker, _, _) in BREAKAGES.items():
        path = tmp_path / f"{breakage}.qasm"
        circuit_writer(path, breaker(result))()
        capsys.readouterr()
        code = main(["verify", str(original_path), str(path), "--report", str(report_path)])
        out = capsys.readouterr()
        assert code == 1, f"{breakage}: exit {code}\n{out.out}{out.err}"
        assert "NOT equivalent" in out.out
        assert all(line.startswith("dqc: [") for line in out.err.splitlines())  # progress lines only
        assert json.loads(report_path.read_text())["verification"]["equivalent"] is False


@pytest.mark.parametrize("method", ["exact", "random"])
def test_small_angle_change_is_caught(method):
    """A cp angle off by 0.01 rad fails each branch with probability ~2.5e-5: the check must see it."""
    result = _compiled("qft_noswap_4", 2)
    data = list(result.circuit.data)
    position = next(i for i, inst in enumerate(data) if inst.operation.name == "cp")
    angle = float(data[position].operation.params[0])
    data[position] = data[position].replace(operation=CPhaseGate(angle + 0.01))
    broken = _rebuild(result.circuit, data)
    verdict = verify(_original("qft_noswap_4"), broken, layout=result.report["layout"], method=method, seed=SEED)
    assert not verdict.equivalent, verdict
