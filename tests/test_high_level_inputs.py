"""Operations qiskit builds only by high-level synthesis (no ``definition``): PermutationGate,
Clifford, LinearFunction, PauliEvolutionGate. MQT Bench's ``ae`` at its ``alg`` level holds a
PermutationGate; they used to be refused as opaque gates."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import LinearFunction, PauliEvolutionGate, PermutationGate
from qiskit.quantum_info import SparsePauliOp, random_clifford

from dqc_compiler import Network
from dqc_compiler import compile as compile_circuit
from dqc_compiler.errors import DQCError
from dqc_compiler.verify import verify

OBJECTS = {
    "permutation": lambda: PermutationGate([2, 0, 1]),
    "clifford": lambda: random_clifford(3, seed=2),  # the Operation itself, not an Instruction
    "linear_function": lambda: LinearFunction([[1, 1, 0], [0, 1, 0], [0, 1, 1]]),
    "pauli_evolution": lambda: PauliEvolutionGate(SparsePauliOp(["XZY", "ZZI"], [0.3, -0.7]), time=0.4),
}


def _circuit(name: str) -> QuantumCircuit:
    circuit = QuantumCircuit(5)
    circuit.h(0)
    circuit.rx(0.3, 4)
    circuit.append(OBJECTS[name](), [0, 2, 4])
    circuit.cx(2, 3)
    circuit.cp(0.7, 4, 1)
    return circuit


@pytest.mark.parametrize("name", list(OBJECTS))
def test_high_level_objects_compile_verify_and_a_broken_output_is_caught(name):
    circuit = _circuit(name)
    result = compile_circuit(circuit, Network.for_circuit(5, 2), seed=3)
    layout = result.report["layout"]
    assert verify(circuit, result.circuit, layout, seed=3).equivalent
    broken = result.circuit.copy()
    broken.z(0)
    assert not verify(circuit, broken, layout, seed=3).equivalent


def test_an_opaque_gate_is_still_refused():
    from qiskit.circuit import Gate

    circuit = QuantumCircuit(2)
    circuit.append(Gate("mystery", 2, []), [0, 1])
    with pytest.raises(DQCError, match="no definition"):
        compile_circuit(circuit, Network.for_circuit(2, 2))
