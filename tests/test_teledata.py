"""Teledata (teleporting a qubit to another QPU) and the hybrid plan that moves qubits between windows."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st
from qiskit import QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit import ClassicalRegister, Clbit
from qiskit.circuit.library import quantum_volume

from dqc_compiler.cli import main
from dqc_compiler.hybrid import windows
from dqc_compiler.network import Network
from dqc_compiler.pipeline import compile
from dqc_compiler.protocols import teleport
from dqc_compiler.verify import contract_violations, verify

from .conftest import drop_first_correction


class _Into:
    """Collects protocol operations, then writes them into a circuit once its bits are known."""

    def __init__(self):
        self.operations = []

    def apply_operation_back(self, op, qargs=(), cargs=()):
        self.operations.append((op, qargs, cargs))


def _teleported(relay: bool = False) -> tuple[QuantumCircuit, QuantumCircuit]:
    """One qubit, rotated on QPU a and teleported to the data qubit of QPU c (through b when ``relay``)."""
    original = QuantumCircuit(1)
    original.u(0.3, 1.1, -0.4, 0)
    a, c = QuantumRegister(2, "a"), QuantumRegister(2, "c")
    b = QuantumRegister(2, "b")
    bits = [Clbit() for _ in range(4)]
    into = _Into()
    relays = ((b[0], b[1]),) if relay else ()
    teleport(into, a[0], a[1], c[1], (bits[0], bits[1]), target=c[0], relays=relays,
             relay_bits=((bits[2], bits[3]),) if relay else ())
    out = QuantumCircuit(a, b, c, ClassicalRegister(name="m", bits=bits)) if relay else QuantumCircuit(
        a, c, ClassicalRegister(name="m", bits=bits[:2]))
    out.u(0.3, 1.1, -0.4, a[0])
    for op, qargs, cargs in into.operations:
        out.append(op, qargs, cargs)
    out.metadata = {"dqc_layout": {"initial": [{"qpu": "a", "index": 0}], "final": [{"qpu": "c", "index": 0}]}}
    return original, out


@pytest.mark.parametrize("relay", [False, True])
def test_teleport_moves_the_state(relay):
    original, out = _teleported(relay)
    assert not contract_violations(out, data_qubits={out.qubits[0], out.qregs[-1][0]})
    assert sum(1 for i in out.data if i.operation.name == "epr") == (2 if relay else 1)
    assert verify(original, out).equivalent


@pytest.mark.parametrize("relay", [False, True])
def test_teleport_negative_controls(relay):
    original, out = _teleported(relay)
    assert not verify(original, drop_first_correction(out)).equivalent  # a correction lost
    remote = out.qregs[-1][1]
    for skip in (0, 1):  # the X, then the Z correction on the receiving comm qubit
        kept, seen = out.copy_empty_like(), 0
        for instruction in out.data:
            if instruction.operation.name == "if_else" and instruction.qubits[0] == remote and not relay:
                seen += 1
                if seen - 1 == skip:
                    continue
            kept.append(instruction)
        if not relay:
            assert not verify(original, kept).equivalent
    wrong = out.copy()
    wrong.metadata = {"dqc_layout": {"initial": [{"qpu": "a", "index": 0}], "final": [{"qpu": "a", "index": 0}]}}
    assert not verify(original, wrong).equivalent  # the state is not where the layout says


def _qv(n: int, seed: int = 7) -> QuantumCircuit:
    return transpile(quantum_volume(n, seed=seed), basis_gates=["u3", "cx"], optimization_level=0)


def test_windows_are_layers_of_a_matching():
    circuit = _qv(6)
    of_op, pairs = windows(circuit)
    assert len(pairs) == 6  # one window per quantum-volume layer
    assert all(len(p) == 3 and set(p.values()) == {3} for p in pairs)
    latest = {}
    for instruction, window in zip(circuit.data, of_op):  # never back in time along a wire
        for q in instruction.qubits:
            assert latest.get(q, 0) <= window
            latest[q] = window


def test_hybrid_beats_static_and_verifies():
    circuit = _qv(6)
    network = Network.all_to_all(2, 4)
    static = compile(circuit, network, teledata=False, seed=1)
    hybrid = compile(circuit, network, seed=1)
    cost = hybrid.report["cost"]
    assert cost["teledata"] >= 1
    assert cost["ebits"] < static.report["cost"]["ebits"]
    assert cost["ebits"] == sum(1 for i in hybrid.circuit.data if i.operation.name == "epr")
    assert hybrid.report["teledata"]["static_ebits"] == static.report["cost"]["ebits"]
    history = hybrid.report["teledata"]["history"]
    assert len(history) == 6 and any(len(homes) > 1 for homes in history)
    assert [homes[-1]["qpu"] for homes in history] == [e["qpu"] for e in hybrid.report["layout"]["final"]]
    # the property set still describes the input and the placement at the start
    assert sorted(hybrid.property_set["dqc_interaction_graph"].nodes) == list(range(6))
    assert [network.qpus[j].name for j in hybrid.property_set["dqc_partition"]] == [h[0]["qpu"] for h in history]
    assert verify(circuit, hybrid.circuit).equivalent
    assert not verify(circuit, drop_first_correction(hybrid.circuit)).equivalent
    wrong = hybrid.circuit.copy()
    layout = json.loads(json.dumps(hybrid.circuit.metadata["dqc_layout"]))
    layout["final"] = layout["initial"]
    wrong.metadata = {"dqc_layout": layout}
    assert not verify(circuit, wrong).equivalent


def test_no_teledata_and_no_win_keep_the_static_plan():
    circuit = QuantumCircuit(4)
    circuit.h(0)
    for t in (1, 2, 3):
        circuit.cx(0, t)
    network = Network.all_to_all(2, 3)
    auto = compile(circuit, network, seed=1)
    assert auto.report["cost"]["teledata"] == 0 and "teledata" not in auto.report
    assert auto.report["cost"] == compile(circuit, network, seed=1, teledata=False).report["cost"]


def test_full_qpus_swap_through_a_comm_qubit():
    """No spare data qubit: a swap of two qubits parks one in a comm qubit first (2 ebits)."""
    circuit = QuantumCircuit(4)
    circuit.cx(0, 1)
    circuit.cx(2, 3)
    for _ in range(3):
        circuit.cx(0, 2)
        circuit.cx(2, 0)
        circuit.cx(1, 3)
        circuit.cx(3, 1)
    network = Network.all_to_all(2, 2)
    result = compile(circuit, network, seed=1, partition=[0, 0, 1, 1], teledata=True)
    assert result.report["cost"]["teledata"] >= 2
    assert verify(circuit, result.circuit).equivalent


@st.composite
def _circuits(draw):
    n = draw(st.integers(3, 6))
    circuit = QuantumCircuit(n)
    for _ in range(draw(st.integers(2, 14))):
        a, b = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        circuit.u(draw(st.floats(0, 3)), 0.2, 0.1, a)
        circuit.cx(a, b) if draw(st.booleans()) else circuit.cz(a, b)
    return circuit


@settings(max_examples=12, deadline=None)
@given(circuit=_circuits(), k=st.integers(2, 3), spare=st.integers(0, 1))
def test_hybrid_outputs_verify(circuit, k, spare):
    n = circuit.num_qubits
    network = Network.all_to_all(k, -(-n // k) + spare)
    result = compile(circuit, network, seed=0, teledata=True)
    out = result.circuit
    assert result.report["cost"]["ebits"] == sum(1 for i in out.data if i.operation.name == "epr")
    qpus = {qpu.name: qpu for qpu in network.qpus}
    for register in out.qregs:
        assert register.size <= qpus[register.name].data_qubits + qpus[register.name].comm_qubits
    assert verify(circuit, out).equivalent


def test_cli_capacity_and_no_teledata(tmp_path, capsys):
    source = tmp_path / "qv.qasm"
    from qiskit import qasm2

    qasm2.dump(_qv(6), str(source))
    report = tmp_path / "r.json"
    assert main(["compile", str(source), "--qpus", "2", "--capacity", "4", "--report", str(report)]) == 0
    moved = json.loads(report.read_text())
    assert moved["network"]["qpus"][0]["data_qubits"] == 4 and moved["cost"]["teledata"] >= 1
    assert main(["compile", str(source), "--qpus", "2", "--capacity", "4", "--no-teledata",
                 "--report", str(report)]) == 0
    assert json.loads(report.read_text())["cost"]["teledata"] == 0
    capsys.readouterr()
    assert main(["compile", str(source), "--qpus", "2", "--capacity", "2"]) == 2
    assert "hold only 4" in capsys.readouterr().err
    assert main(["compile", str(source), "--network", "line:2", "--capacity", "4"]) == 2
