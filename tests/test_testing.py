"""`dqc_compiler.testing.assert_equivalent`: accepts real outputs (of compile and of transpile), rejects broken ones with a useful message."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import IfElseOp

import dqc_compiler
from dqc_compiler.plugin import to_qpu_registers
from dqc_compiler.testing import assert_equivalent

from .conftest import rebuild as _rebuild


def _ghz() -> QuantumCircuit:
    qc = QuantumCircuit(3, name="ghz")
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.rz(0.3, 2)
    return qc


@pytest.fixture(scope="module")
def compiled():
    return dqc_compiler.compile(_ghz(), qpus=3, seed=1)


def test_accepts_the_compiler_output(compiled):
    assert_equivalent(_ghz(), compiled.circuit)
    assert_equivalent(_ghz(), compiled.circuit, layout=compiled.report["layout"], method="exact")


def test_rejects_a_dropped_correction(compiled):
    data = [i for i in compiled.circuit.data]
    del data[next(n for n, i in enumerate(data) if isinstance(i.operation, IfElseOp))]
    with pytest.raises(AssertionError, match=r"not equivalent to ghz .*all-zero probability"):
        assert_equivalent(_ghz(), _rebuild(compiled.circuit, data))


def test_rejects_a_wrong_correction(compiled):
    data = list(compiled.circuit.data)
    position = next(n for n, i in enumerate(data) if isinstance(i.operation, IfElseOp))
    op = data[position].operation
    body = op.blocks[0].copy_empty_like()
    body.y(body.qubits[0])
    data[position] = data[position].replace(operation=IfElseOp(op.condition, body))
    with pytest.raises(AssertionError, match="not equivalent"):
        assert_equivalent(_ghz(), _rebuild(compiled.circuit, data))


def test_rejects_a_permuted_layout(compiled):
    layout = {key: list(value) for key, value in compiled.report["layout"].items()}
    layout["final"][0], layout["final"][2] = layout["final"][2], layout["final"][0]
    with pytest.raises(AssertionError, match="not equivalent"):
        assert_equivalent(_ghz(), compiled.circuit, layout=layout)


# ---------------------------------------------------------------------- the output of transpile() with the dqc plugins
def _ghz_measured() -> QuantumCircuit:
    qc = QuantumCircuit(4, 4, name="ghz_measured")
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.cx(2, 3)
    qc.rz(0.3, 3)  # dropped by qiskit before the final measurement at level 2: verify must still accept
    qc.measure(range(4), range(4))
    return qc


@pytest.fixture(scope="module")
def transpiled():
    network = dqc_compiler.Network.for_circuit(4, 2)
    return transpile(_ghz_measured(), target=network.to_target(), layout_method="dqc", routing_method="dqc",
                     optimization_level=2, seed_transpiler=1)


def test_accepts_the_transpiled_output(transpiled):
    assert "rz" not in transpiled.count_ops()
    assert_equivalent(_ghz_measured(), transpiled)
    assert_equivalent(_ghz_measured(), transpiled, method="random")


def test_rejects_a_dropped_correction_after_transpile(transpiled):
    data = list(transpiled.data)
    del data[next(n for n, i in enumerate(data) if isinstance(i.operation, IfElseOp))]
    with pytest.raises(AssertionError, match="not equivalent to ghz_measured"):
        assert_equivalent(_ghz_measured(), _rebuild(transpiled, data))


def test_rejects_a_wrong_correction_after_transpile(transpiled):
    data = list(transpiled.data)
    position = next(n for n, i in enumerate(data) if isinstance(i.operation, IfElseOp))
    op = data[position].operation
    body = op.blocks[0].copy_empty_like()
    body.y(body.qubits[0])
    data[position] = data[position].replace(operation=IfElseOp(op.condition, body))
    with pytest.raises(AssertionError, match="not equivalent"):
        assert_equivalent(_ghz_measured(), _rebuild(transpiled, data))


def test_rejects_a_permuted_layout_after_transpile(transpiled):
    layout = to_qpu_registers(transpiled).metadata["dqc_layout"]
    layout = {key: list(value) for key, value in layout.items()}
    layout["final"][0], layout["final"][3] = layout["final"][3], layout["final"][0]
    with pytest.raises(AssertionError, match="not equivalent"):
        assert_equivalent(_ghz_measured(), transpiled, layout=layout)


def test_rejects_a_gate_across_qpus_after_transpile(transpiled):
    data = list(transpiled.data)
    position = next(n for n, i in enumerate(data) if i.operation.name == "cx")
    first = data[position].qubits[0]
    data[position] = data[position].replace(qubits=(first, transpiled.qubits[-1]))  # the last QPU's last comm qubit
    with pytest.raises(AssertionError, match="acts on several QPUs"):
        assert_equivalent(_ghz_measured(), _rebuild(transpiled, data))
