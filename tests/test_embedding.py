"""Hadamard embedding (dqc_compiler.embedding): a Z copy lives across h · (X-frame Paulis) · h."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit
from qiskit.circuit.library import CPhaseGate, CXGate, CZGate, HGate, RXGate, RZGate, UGate
from qiskit.converters import circuit_to_dag, dag_to_circuit

import dqc_compiler
from dqc_compiler import planner as planner_module
from dqc_compiler.embedding import best_embedded_model, inner_effect, is_closer, is_opener
from dqc_compiler.network import Network
from dqc_compiler.passes import InsertTelegates
from dqc_compiler.passes.bursts import to_bursts
from dqc_compiler.segments import build_model, choose_copies, copy_count
from dqc_compiler.verify import verify

from .conftest import examples


def _node(gate, qubits):
    qc = QuantumCircuit(max(qubits) + 1)
    qc.append(gate, qubits)
    return next(iter(circuit_to_dag(qc).op_nodes()))


def saving_example() -> QuantumCircuit:
    """q0 on QPU 0 meets q3, q4 on QPU 1 three times, with ``h cz(0, 5) h`` between."""
    qc = QuantumCircuit(6)
    qc.h(range(6))
    for r in range(3):
        qc.cz(0, 3)
        qc.cz(0, 4)
        qc.h(3)
        qc.h(4)
        if r < 2:
            qc.h(0)
            qc.cz(0, 5)
            qc.h(0)
    qc.rx(0.2, range(6))
    return qc


def embedded_output(qc: QuantumCircuit, parts: list[int], comm: int = 2):
    """The distributed circuit of the embedded burst model's minimum cover (None: no sandwich helps)."""
    dag = circuit_to_dag(qc)
    model = best_embedded_model(dag, parts)
    if model is None:
        return None, None
    bursts = to_bursts(model, choose_copies(model, parts), parts)
    k = max(parts) + 1
    network = Network.all_to_all(k, max(parts.count(j) for j in range(k)), comm_qubits=comm)
    insert = InsertTelegates(network)
    insert.property_set["dqc_partition"] = parts
    insert.property_set["dqc_bursts"] = bursts
    return dag_to_circuit(insert.run(dag)), model


def test_rule_by_matrix():
    assert is_opener(_node(HGate(), [0])) and is_closer(_node(HGate(), [0]))
    assert is_opener(_node(UGate(np.pi / 2, 0, np.pi), [0]))  # h by another name
    assert not is_opener(_node(RXGate(0.3), [0]))
    assert inner_effect(_node(CZGate(), [0, 1]), 0) == (1, (0, 1))  # h cz h = cx r -> q: cx r -> copy
    assert inner_effect(_node(CPhaseGate(np.pi), [0, 1]), 1) == (0, (0, 1))
    assert inner_effect(_node(CXGate(), [1, 0]), 1) == (0, (0, 0))  # a cx target is diagonal in the frame
    assert inner_effect(_node(CPhaseGate(0.3), [0, 1]), 0) is None  # not a Pauli in the frame
    assert inner_effect(_node(RXGate(0.3), [0]), 0) == (-1, (0, 0))
    assert inner_effect(_node(RZGate(np.pi), [0]), 0) == (-1, (1, 1))
    assert inner_effect(_node(RZGate(0.3), [0]), 0) is None


def test_embedding_saves_ebits():
    qc = saving_example()
    parts = [0, 0, 0, 1, 1, 1]
    dag = circuit_to_dag(qc)
    assert copy_count(build_model(dag), parts) == 4
    out, model = embedded_output(qc, parts)
    assert copy_count(model, parts) == 2
    assert out.count_ops()["epr"] == 2
    assert verify(qc, out).equivalent
    for level, ebits in ((1, 5), (2, 2), (3, 2)):
        result = dqc_compiler.compile(qc, qpus=2, partition=parts, optimization_level=level, seed=1)
        assert result.report["cost"]["ebits"] == ebits
        assert verify(qc, result.circuit).equivalent


def test_dropped_correction_is_caught(monkeypatch):
    qc = saving_example()
    monkeypatch.setattr(planner_module, "correct_copy", lambda *args, **kwargs: None)
    out, _ = embedded_output(qc, [0, 0, 0, 1, 1, 1])
    assert not verify(qc, out).equivalent


def test_copy_closed_inside_a_sandwich(monkeypatch):
    """One comm qubit per QPU: copies are evicted, some while their qubit is in the X frame."""
    qc = saving_example()
    parts = [0, 0, 0, 1, 1, 1]
    framed = []
    real = planner_module.cat_disentangle

    def recording(*args, **kwargs):
        framed.append(kwargs.get("framed", False))
        return real(*args, **kwargs)

    monkeypatch.setattr(planner_module, "cat_disentangle", recording)
    out, _ = embedded_output(qc, parts, comm=1)
    assert any(framed) and verify(qc, out).equivalent
    monkeypatch.setattr(planner_module, "cat_disentangle", lambda *a, **k: real(*a, **{**k, "framed": False}))
    broken, _ = embedded_output(qc, parts, comm=1)
    assert not verify(qc, broken).equivalent  # the Z correction of a copy closed in the X frame is wrong


def _random_circuit(draw_ops, n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    for kind, a, b, angle in draw_ops:
        b = b if b != a else (a + 1) % n
        if kind == "h":
            qc.h(a)
        elif kind == "cz":
            qc.cz(a, b)
        elif kind == "rz":
            qc.rz(angle, a)
        elif kind == "z":
            qc.z(a)
        elif kind == "x":
            qc.x(a)
        elif kind == "sandwich":  # cz a, c; h a; cz a, b; (z a | rx a | cx b, a); h a; cz a, c
            qc.cz(a, (a + 3) % n)
            qc.h(a)
            qc.cz(a, b)
            if angle == np.pi:
                qc.z(a)
            elif angle == 0.3:
                qc.rx(angle, a)
            else:
                qc.cx(b, a)
            qc.h(a)
            qc.cz(a, (a + 3) % n)
        else:
            qc.cx(a, b)
    return qc


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["h", "cz", "cz", "cz", "rz", "z", "x", "cx", "sandwich", "sandwich"]),
        st.integers(0, 5),
        st.integers(0, 5),
        st.sampled_from([0.3, np.pi, np.pi / 2]),
    ),
    min_size=8,
    max_size=40,
)


def _dropping_first(real):
    """``correct_copy`` that leaves out its first correction (a broken output)."""
    calls = []

    def patched(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            real(*args, **kwargs)

    return patched


def test_random_h_cz_rz_circuits():
    """Every embedded output is exact. Negative control: with its first correction left out, the
    output must be caught, unless a later operation happens to cancel it (an ``x`` on a copy just
    before it is closed is harmless), so most, not all, broken outputs are asserted caught."""
    caught = []

    @settings(max_examples=examples(80))
    @given(ops=_OPS, parts=st.sampled_from([[0, 0, 0, 1, 1, 1], [0, 1, 0, 1, 0, 1], [0, 0, 1, 1, 2, 2]]))
    def check(ops, parts):
        qc = _random_circuit(ops, 6)
        out, model = embedded_output(qc, parts, comm=8)
        if out is None:
            return
        assert verify(qc, out).equivalent
        assert out.count_ops().get("epr", 0) == copy_count(model, parts)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(planner_module, "correct_copy", _dropping_first(planner_module.correct_copy))
            broken, _ = embedded_output(qc, parts, comm=8)
        if len(broken.data) != len(out.data):  # a correction was really left out
            caught.append(not verify(qc, broken).equivalent)

    check()
    assert len(caught) >= 10 and sum(caught) >= 0.6 * len(caught), caught
