"""The verifier on random circuits: no false alarms, broken outputs caught, any width answered."""

from __future__ import annotations

import itertools
import math
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit, qasm3
from qiskit.circuit.library import (
    CHGate, CPhaseGate, CRXGate, CRYGate, CSdgGate, CSGate, CSXGate, CUGate, HGate, RGate, RXGate, RZGate,
    RZZGate, TGate, UGate,
)
from qiskit.quantum_info import Clifford, Operator

import dqc_compiler
from dqc_compiler.io import dumps_qasm3, loads_circuit
from dqc_compiler.verify import _roles, cliffordise, verify

from .conftest import drop_first_correction

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import fuzz  # noqa: E402

GATES = [RZGate(0.3), RXGate(-0.3), RGate(1.77, 0.42), UGate(0.3, 1.1, 2.2), UGate(1.2, 0, 0), TGate(), HGate(),
         CPhaseGate(0.3), CSGate(), CSdgGate(), RZZGate(0.7), CRXGate(0.4), CRYGate(-2.0), CSXGate(), CHGate(),
         CUGate(2.39, 2.29, 0.27, 3.67), CUGate(np.pi, 0, np.pi, 0.3)]


@pytest.mark.parametrize("gate", GATES, ids=lambda g: g.name)
def test_clifford_image_is_clifford_and_keeps_roles(gate):
    image = Operator(cliffordise(gate)).data
    Clifford.from_matrix(image)  # raises when not a Clifford
    assert _roles(Operator(gate).data) <= _roles(image)


def test_clifford_image_depends_on_the_matrix_not_the_name():
    """Regression (fuzz seed 38): the OpenQASM 3 exporter writes `r` as `r_0` with a U body."""
    custom = QuantumCircuit(1, name="r_0")
    custom.u(1.7753845609366623, -1.146226776071763, 1.146226776071763, 0)
    renamed = custom.to_gate()
    standard = RGate(1.7753845609366623, 0.42456955072313357)
    assert Operator(cliffordise(renamed)).equiv(Operator(cliffordise(standard)))


def test_cs_tie_is_decided_the_same_from_any_definition():
    """cs is a tie between two Clifford images; rounding noise of another definition must not flip it."""
    noisy = QuantumCircuit(2, name="cs_custom")
    noisy.t(0)
    noisy.t(1)
    noisy.cx(0, 1)
    noisy.tdg(1)
    noisy.cx(0, 1)
    assert Operator(noisy).equiv(Operator(CSGate()))
    assert Operator(cliffordise(noisy.to_gate())).equiv(Operator(cliffordise(CSGate())))


SEED38 = """OPENQASM 3.0;
include "stdgates.inc";
gate r(p0, p1) _gate_q_0 {
  U(p0, -pi/2 + p1, pi/2 - p1) _gate_q_0;
}
qubit[8] q;
r(1.7754959469219238, 4.890527518283298) q[2];
cswap q[0], q[6], q[1];
r(1.7753845609366623, 0.42456955072313357) q[0];
"""


def _broken(circuit: QuantumCircuit) -> QuantumCircuit:
    """The output with its first correction dropped."""
    broken = drop_first_correction(circuit)
    assert broken is not None
    return broken


def test_seed38_false_alarm_through_files_is_gone_and_a_broken_output_is_caught():
    original = loads_circuit(SEED38)
    result = dqc_compiler.compile(original, qpus=4, seed=38, optimization_level=0)
    distributed = loads_circuit(dumps_qasm3(result.circuit))
    assert verify(original, distributed, method="stabilizer").equivalent
    assert not verify(original, _broken(distributed), method="stabilizer").equivalent


def _random_case(seed: int, file_round_trip: bool):
    rng = random.Random(seed)
    n, depth, k, level = rng.randint(2, 7), rng.randint(2, 8), rng.randint(2, 3), rng.randint(0, 3)
    from qiskit.circuit.random import random_circuit

    circuit = random_circuit(n, depth, max_operands=3, measure=False, seed=seed)
    if file_round_trip:
        circuit = loads_circuit(qasm3.dumps(circuit))
    result = dqc_compiler.compile(circuit, qpus=min(k, n), seed=seed, optimization_level=level)
    distributed = loads_circuit(dumps_qasm3(result.circuit)) if file_round_trip else result.circuit
    return circuit, distributed, result


@pytest.mark.parametrize("seed", range(20))
def test_random_circuits_no_false_alarm_and_broken_caught(seed):
    """A small derandomised fuzz: every check (stabilizer included) passes a correct output."""
    circuit, distributed, result = _random_case(seed, file_round_trip=seed % 2 == 1)
    assert verify(circuit, distributed, method="stabilizer").equivalent
    assert verify(circuit, distributed, method="random", seed=seed).equivalent
    if any(i.operation.name == "if_else" for i in distributed.data):
        assert not verify(circuit, _broken(distributed), method="exact").equivalent


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(5))
def test_fuzz_chunk(chunk):
    """200 cases of benchmarks/fuzz.py: no wrong output, no false alarm, no traceback, and every
    deliberately broken copy that the exact cross-check finds wrong is caught by the verifier.
    (A broken copy that passes where the output is too wide for the exact cross-check is not
    counted: moving a gate can leave the circuit unchanged, as benchmarks/fuzz.md shows for case 194.)"""
    for index in range(chunk * 40, chunk * 40 + 40):
        record = fuzz.run_case(fuzz.draw(index, 0), exact_width=12)
        labels = set(fuzz.classify(record)) - {"refused", "broken copy passed (no exact cross-check)"}
        assert not labels, (index, labels, record.get("message"))


@pytest.mark.parametrize("index", [80, 150, 175])
def test_fuzz_regressions_of_moved_qubits(index):
    """Seed-0 fuzz cases that failed after teledata landed: a hybrid plan (80) or routing onto
    neighbours (150, 175) left a final measurement where the qubit no longer ended. Such inputs
    now keep the static plan or the one-line refusal."""
    record = fuzz.run_case(fuzz.draw(index, 0), exact_width=12)
    labels = set(fuzz.classify(record)) - {"refused", "broken copy passed (no exact cross-check)"}
    assert not labels, (index, labels, record.get("message"))


def test_verify_answers_at_1000_qubits_without_overflow():
    """Regression (issue 18.3): 2.0 ** (2n + pool) overflowed at about 512 qubits."""
    from dqc_compiler.verify import _plan

    plan = _plan("auto", 1000, 4, 3000, gate_for_gate=True)
    assert plan.method == "stabilizer" and "2004 qubits" in plan.choice
    assert _plan("auto", 3, 2, 20, gate_for_gate=True).method == "exact"


def test_wide_verify_runs_the_stabilizer_check_and_catches_a_break():
    n = 120
    circuit = QuantumCircuit(n)
    circuit.h(0)
    for i in range(n - 1):
        circuit.cx(i, i + 1)
    circuit.t(3)
    result = dqc_compiler.compile(circuit, qpus=3)
    verdict = verify(circuit, result.circuit)
    assert verdict.equivalent and verdict.method == "clifford/stabilizer" and verdict.choice
    assert not verify(circuit, _broken(result.circuit)).equivalent


def _about(axis, angle):
    from qiskit.circuit.library import UnitaryGate

    n = np.asarray(axis, float) / np.linalg.norm(axis)
    generator = n[0] * np.array([[0, 1], [1, 0]]) + n[1] * np.array([[0, -1j], [1j, 0]]) + n[2] * np.diag([1, -1])
    return UnitaryGate(math.cos(angle / 2) * np.eye(2) - 1j * math.sin(angle / 2) * generator)


def _controlled(gate):
    from qiskit.circuit.library import UnitaryGate

    m = Operator(gate).data
    return UnitaryGate(np.kron(np.eye(2), np.diag([1, 0])) + np.kron(m, np.diag([0, 1])))


def test_commuting_gates_have_commuting_images():
    """Level 3 reorders gates that commute; their images must commute too, or the Clifford-ised
    check would raise a false alarm. (A wider sweep of this, 20,235 commuting pairs, found none.)"""
    axes = [(1, 0, 0), (0, 0, 1), (1, 0, 1), (0.3, 0.5, 0.8)]
    ones = [HGate(), TGate()] + [_about(a, t) for a in axes for t in (0.3, math.pi)]
    twos = [CPhaseGate(0.3), CSGate(), RZZGate(0.7), CRXGate(0.4), CHGate(), CSXGate()]
    twos += [_controlled(_about(a, 0.3)) for a in axes]
    pool = [(g, [[0], [1]]) for g in ones] + [(g, [[0, 1], [1, 0], [1, 2]]) for g in twos]
    checked = 0
    for (first, places_1), (second, places_2) in itertools.product(pool, pool):
        for q1, q2 in itertools.product(places_1, places_2):
            if not set(q1) & set(q2):
                continue
            a, b = _on(first, q1, False), _on(second, q2, False)
            if np.allclose(a @ b, b @ a, atol=1e-9):
                checked += 1
                ia, ib = _on(first, q1, True), _on(second, q2, True)
                assert np.allclose(ia @ ib, ib @ ia, atol=1e-9), (first.name, q1, second.name, q2)
    assert checked > 100


def _on(gate, qubits, image: bool) -> np.ndarray:
    circuit = QuantumCircuit(3)
    if image:
        circuit.compose(cliffordise(gate), qubits, inplace=True)
    else:
        circuit.append(gate, qubits)
    return Operator(circuit).data


def test_exact_check_too_wide_is_refused_with_a_reason():
    from dqc_compiler.verify import VerificationUnavailable

    circuit = QuantumCircuit(20)
    for i in range(19):
        circuit.cx(i, i + 1)
    result = dqc_compiler.compile(circuit, qpus=2)
    with pytest.raises(VerificationUnavailable, match="exact Choi check needs a state vector of 4"):
        verify(circuit, result.circuit, method="exact")
