"""Property-based: random circuits of up to 8 qubits on 2-4 QPUs compile, keep the contract, verify."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit, qasm3

from dqc_compiler import compile
from dqc_compiler.verify import verify

from .conftest import examples, independent_contract_check

ONE_QUBIT = ["h", "x", "s", "t", "sx", "rz", "ry", "p"]
TWO_QUBIT = ["cx", "cz", "cp", "crz", "rzz", "swap", "ch", "cry", "rxx"]
ANGLES = st.floats(min_value=-math.pi, max_value=math.pi, allow_nan=False)


@st.composite
def circuits(draw):
    n = draw(st.integers(2, 8))
    qc = QuantumCircuit(n)
    for _ in range(draw(st.integers(1, 14))):
        if draw(st.booleans()):
            name = draw(st.sampled_from(ONE_QUBIT))
            q = draw(st.integers(0, n - 1))
            args = [draw(ANGLES)] if name in ("rz", "ry", "p") else []
            getattr(qc, name)(*args, q)
        else:
            name = draw(st.sampled_from(TWO_QUBIT + ["ccx"]))
            width = 3 if name == "ccx" else 2
            if n < width:
                continue
            qubits = draw(st.lists(st.integers(0, n - 1), min_size=width, max_size=width, unique=True))
            args = [draw(ANGLES)] if name in ("cp", "crz", "rzz", "cry", "rxx") else []
            getattr(qc, name)(*args, *qubits)
    if draw(st.booleans()):
        qc.measure_all()
    return qc


@settings(max_examples=examples(60))
@given(circuit=circuits(), k=st.integers(2, 4), seed=st.integers(0, 1000), level=st.sampled_from([0, 1, 2, 3]))
def test_random_circuits_distribute_correctly(circuit, k, seed, level):
    result = compile(circuit, qpus=k, seed=seed, optimization_level=level)
    independent_contract_check(result.circuit, result.report)
    verdict = verify(circuit, result.circuit, seed=seed)
    assert verdict.equivalent, (verdict, qasm3.dumps(circuit))
    cost = result.report["cost"]
    # one copy per (gate, qubit away from where it runs) is the level 0 price; bursts never pay more
    per_gate = sum(len(b.nodes) for b in result.property_set["dqc_bursts"])
    if level == 0:
        assert cost["ebits"] == cost["nonlocal_gates"] == per_gate
    else:
        assert cost["ebits"] <= per_gate
    assert cost["ebits"] - cost["teledata"] == cost["telegates"] == cost["bursts"] + cost["bursts_split"]
    assert cost["classical_bits"] == 2 * cost["ebits"]

