"""Caches shared across circuits key a gate by what it does, not by its name.

Two user gates may share a name and parameters but not a body (one file's ``gate g a, b { cx a, b; }``,
another's ``{ cz a, b; h b; }``). In one process (a pytest suite, ``dqc batch``, the plugin) the second
must never be compiled or verified as the first.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator

from dqc_compiler import pipeline
from dqc_compiler.gates import cache_key, matrix
from dqc_compiler.network import Network
from dqc_compiler.verify import verify


def user_gate(name: str, body: str, width: int = 2):
    definition = QuantumCircuit(width, name=name)
    if body == "cx":
        definition.cx(0, 1)
    elif body == "cz_h":
        definition.cz(0, 1)
        definition.h(1)
    elif body == "cz":
        definition.cz(0, 1)
    elif body == "ccx":
        definition.ccx(0, 1, 2)
    elif body == "ccz_h":
        definition.ccz(0, 1, 2)
        definition.h(0)
    return definition.to_gate()


def circuit_with(gate) -> QuantumCircuit:
    qc = QuantumCircuit(4)
    qc.h(0)
    qc.h(1)
    qubits = [0, 3] if gate.num_qubits == 2 else [0, 3, 1]
    qc.append(gate, qubits)
    qc.append(gate, [2, 1] if gate.num_qubits == 2 else [2, 1, 3])
    qc.cx(1, 2)
    return qc


def test_same_name_different_body_has_its_own_matrix():
    first, second = user_gate("g", "cx"), user_gate("g", "cz_h")
    assert cache_key(first) != cache_key(second)
    np.testing.assert_allclose(matrix(first), Operator(first).data)
    np.testing.assert_allclose(matrix(second), Operator(second).data)  # not the cached first one


def test_standard_gates_keep_their_short_key():
    from qiskit.circuit.library import CXGate, RZGate

    assert cache_key(CXGate()) == cache_key(CXGate())
    assert cache_key(RZGate(0.5)) != cache_key(RZGate(0.25))


@pytest.mark.parametrize("bodies", [("cx", "cz_h"), ("ccx", "ccz_h")])
@pytest.mark.parametrize("method", ["exact", "random", "stabilizer"])
def test_verifier_tells_same_named_gates_apart_in_one_process(bodies, method):
    width = 2 if bodies[0] == "cx" else 3
    first = circuit_with(user_gate("g", bodies[0], width))
    second = circuit_with(user_gate("g", bodies[1], width))
    network = Network.all_to_all(2, 2)
    out_first = pipeline.compile(first, network).circuit
    assert verify(first, out_first, method=method, seed=1).equivalent  # fills every cache with the first 'g'
    out_second = pipeline.compile(second, network).circuit
    assert verify(second, out_second, method=method, seed=1).equivalent
    # negative controls: each output against the other circuit
    assert not verify(second, out_first, method=method, seed=1).equivalent
    assert not verify(first, out_second, method=method, seed=1).equivalent


def test_a_gate_named_like_a_standard_one_is_what_its_body_says():
    """A user ``cz`` whose body is a ``cx`` (after a true ``cz`` was seen) is simulated as a ``cx``."""
    honest = QuantumCircuit(2, name="cz")
    honest.cz(0, 1)
    liar = QuantumCircuit(2, name="cz")
    liar.cx(0, 1)
    network = Network.all_to_all(2, 2)
    results = {}
    for label, body in (("honest", honest), ("liar", liar)):
        qc = QuantumCircuit(4)
        qc.h(0)
        qc.append(body.to_gate(), [0, 3])
        qc.append(body.to_gate(), [1, 2])
        results[label] = (qc, pipeline.compile(qc, network).circuit)
        assert verify(qc, results[label][1], method="exact").equivalent
    assert not verify(results["liar"][0], results["honest"][1], method="exact").equivalent


def test_verify_takes_a_compile_result():
    qc = circuit_with(user_gate("g", "cx"))
    result = pipeline.compile(qc, Network.all_to_all(2, 2))
    assert verify(qc, result).equivalent
    other = circuit_with(user_gate("g", "cz_h"))
    assert not verify(other, result).equivalent
