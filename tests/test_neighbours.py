"""A route for every circuit that fits: QPUs that cannot relay (one comm qubit) get qubits swapped onto neighbours."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from qiskit import QuantumCircuit

from dqc_compiler.io import load_circuit
from dqc_compiler.errors import NoRoute
from dqc_compiler.network import QPU, Link, Network
from dqc_compiler.pipeline import compile
from dqc_compiler.verify import contract_violations, verify

from .conftest import drop_first_correction

CIRCUITS = Path(__file__).resolve().parent.parent / "benchmarks" / "circuits"


def _links_used(result) -> set[frozenset]:
    out = result.circuit
    owner = {q: out.find_bit(q).registers[0][0].name for q in out.qubits}
    return {frozenset(owner[q] for q in i.qubits) for i in out.data if i.operation.name == "epr"}


@pytest.mark.parametrize("name", ["qft_noswap_8", pytest.param("grover_5", marks=pytest.mark.slow)])
def test_line_of_one_comm_qubit_qpus(name):
    # Grover-5 as bundled measures at the end; routing onto neighbours takes unmeasured inputs only
    # for now (test_measured_input_keeps_the_refusal), so its final measurements are removed here
    circuit = load_circuit(CIRCUITS / f"{name}.qasm").remove_final_measurements(inplace=False)
    network = Network.from_spec("line:4x2,comm=1", circuit.num_qubits)
    result = compile(circuit, network, seed=1)
    links = {frozenset(link.between) for link in network.links}
    assert _links_used(result) <= links
    assert result.report["routing"]["swaps"] > 0
    assert not contract_violations(result.circuit)
    assert verify(circuit, result.circuit).equivalent
    assert not verify(circuit, drop_first_correction(result.circuit)).equivalent


def test_measured_input_keeps_the_refusal():
    circuit = load_circuit(CIRCUITS / "grover_5.qasm")
    network = Network.from_spec("line:4x2,comm=1", circuit.num_qubits)
    with pytest.raises(NoRoute, match="no path of links joins them"):
        compile(circuit, network, seed=1)


@st.composite
def _cases(draw):
    k = draw(st.integers(3, 5))
    qpus = [QPU(f"p{j}", draw(st.integers(1, 3)), draw(st.integers(1, 2))) for j in range(k)]
    links = [Link((f"p{j}", f"p{draw(st.integers(0, j - 1))}")) for j in range(1, k)]  # a random tree
    network = Network(qpus, links)
    n = draw(st.integers(2, min(6, network.capacity)))
    circuit = QuantumCircuit(n)
    for _ in range(draw(st.integers(1, 10))):
        a, b = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        circuit.ry(draw(st.floats(0.1, 3)), a)
        circuit.cx(a, b)
    return circuit, network


@settings(max_examples=10, deadline=None)
@given(case=_cases())
def test_random_circuits_on_random_trees_compile(case):
    circuit, network = case
    result = compile(circuit, network, seed=0)
    assert _links_used(result) <= {frozenset(link.between) for link in network.links}
    qpus = {qpu.name: qpu for qpu in network.qpus}
    for register in result.circuit.qregs:
        assert register.size <= qpus[register.name].data_qubits + qpus[register.name].comm_qubits
    assert verify(circuit, result.circuit).equivalent
