"""Dynamic-circuit inputs: mid-circuit measurement, reset, classically conditioned gates, loops.

Each compiled circuit is verified (the verifier defers the measurements onto event qubits, see
:mod:`dqc_compiler.defer`) and every equivalence test also shows that a broken copy of the output
is caught: a dropped classical message, a wrong condition value, a moved measurement.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit, qasm2, qasm3
from qiskit.circuit import ClassicalRegister, IfElseOp, QuantumRegister
from qiskit.converters import circuit_to_dag
from qiskit.quantum_info import Statevector
from qiskit.transpiler import PassManager

import dqc_compiler
from dqc_compiler.cli import main
from dqc_compiler.conditions import MAX_CONDITION_BITS, commutator
from dqc_compiler.defer import Deferral
from dqc_compiler.errors import DQCError
from dqc_compiler.io import load_circuit, loads_circuit
from dqc_compiler.labels import bit_label
from dqc_compiler.network import Network
from dqc_compiler.passes import LowerControlFlow
from dqc_compiler.passes.lower_control import MAX_UNROLLED
from dqc_compiler.segments import role_of
from dqc_compiler.split import assemble, split_programs
from dqc_compiler.verify import contract_violations, verify

from .conftest import examples, rebuild

QASM2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'


# ---------------------------------------------------------------------- named circuits
def teleportation() -> QuantumCircuit:
    """Teleport q[0] to q[2] with single-bit conditions, then entangle it with q[3]."""
    q, c = QuantumRegister(4, "q"), ClassicalRegister(4, "c")
    qc = QuantumCircuit(q, c, name="teleport")
    qc.ry(0.7, 0)
    qc.rz(0.3, 0)
    qc.h(1)
    qc.cx(1, 2)
    qc.cx(0, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.measure(1, 1)
    with qc.if_test((c[1], 1)):
        qc.x(2)
    with qc.if_test((c[0], 1)):
        qc.z(2)
    qc.cx(2, 3)
    qc.measure(2, 2)
    qc.measure(3, 3)
    return qc


TELEPORT_QASM2 = QASM2 + """qreg q[4];
creg c[4];
ry(0.7) q[0];
h q[1];
cx q[1],q[2];
cx q[0],q[1];
h q[0];
measure q[0] -> c[0];
measure q[1] -> c[1];
if(c==2) x q[2];
if(c==3) x q[2];
if(c==1) z q[2];
if(c==3) z q[2];
cx q[2],q[3];
"""


def repeat_until_success(rounds: int = 3) -> QuantumCircuit:
    """A repeat-until-success-like loop, unrolled: entangle an ancilla, measure it, correct the
    data on the outcome, reset the ancilla, again."""
    q, c = QuantumRegister(3, "q"), ClassicalRegister(rounds, "c")
    qc = QuantumCircuit(q, c, name="rus")
    qc.ry(0.9, 0)
    qc.h(1)
    for r in range(rounds):
        qc.h(2)
        qc.cx(0, 2)
        qc.t(2)
        qc.cx(1, 2)
        qc.h(2)
        qc.measure(2, r)
        with qc.if_test((c[r], 1)) as otherwise:
            qc.rz(0.4, 0)
            qc.cx(1, 0)
        with otherwise:
            qc.s(1)
        qc.reset(2)
    return qc


def cc_like(n: int = 6) -> str:
    """QASMBench's ``cc`` pattern, small: a fan-in of cx, a mid-circuit measurement, and gates on
    register conditions that depend on the one bit it wrote."""
    last = n - 1
    lines = [QASM2 + f"qreg q0[{n}];\ncreg c0[{n}];"]
    lines += [f"h q0[{i}];" for i in range(last)]
    lines += [f"cx q0[{i}],q0[{last}];" for i in range(last)]
    lines += [f"measure q0[{last}] -> c0[{last}];", f"if(c0==0) x q0[{last}];", f"if(c0==0) h q0[{last}];"]
    lines += [f"if(c0=={2 ** last}) h q0[{i}];" for i in range(last)]
    lines += [f"if(c0==0) cx q0[1],q0[{last}];"]
    lines += [f"if(c0==0) h q0[{i}];" for i in range(last)]
    lines += [f"measure q0[{i}] -> c0[{i}];" for i in range(last)]
    return "\n".join(lines) + "\n"


QASM3_PROGRAM = """OPENQASM 3.0;
include "stdgates.inc";
qubit[4] q;
bit[2] c;
h q[0];
cx q[0], q[2];
c[0] = measure q[0];
if (c[0]) { x q[1]; cx q[1], q[3]; } else { h q[3]; }
for int i in [1:2] { rx(0.3) q[i]; }
reset q[0];
cx q[3], q[0];
c[1] = measure q[3];
if (!c[1]) { cz q[2], q[1]; }
"""


def _named(name: str) -> QuantumCircuit:
    if name == "teleport":
        return teleportation()
    if name == "teleport-qasm2":
        return qasm2.loads(TELEPORT_QASM2, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    if name == "rus":
        return repeat_until_success()
    if name == "cc6":
        return qasm2.loads(cc_like(6), custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    if name == "qiskit-for":
        return qiskit_for_loop()
    return loads_circuit(QASM3_PROGRAM)


def qiskit_for_loop() -> QuantumCircuit:
    """A ``ForLoopOp`` as qiskit builds it (angle from the loop variable, an ``if`` in the body)."""
    q, c = QuantumRegister(3, "q"), ClassicalRegister(1, "c")
    qc = QuantumCircuit(q, c, name="for")
    qc.h(0)
    qc.measure(0, 0)
    with qc.for_loop(range(3)) as i:
        qc.rx(0.2 * i + 0.1, 1)
        qc.cx(1, 2)
        with qc.if_test((c[0], 1)):
            qc.cx(2, 0)
    return qc


NAMED = ["teleport", "teleport-qasm2", "rus", "cc6", "qasm3", "qiskit-for"]


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("name", NAMED)
def test_named_dynamic_circuits_compile_and_verify(name, k):
    qc = _named(name)
    result = dqc_compiler.compile(qc, qpus=k, seed=3)
    assert not contract_violations(result.circuit)
    epr = sum(1 for inst in result.circuit.data if inst.operation.name == "epr")
    assert result.report["cost"]["ebits"] == epr
    verdict = verify(qc, result.circuit, method="auto", seed=1)
    assert verdict.equivalent, verdict
    back = qasm3.loads(qasm3.dumps(result.circuit))  # the contract: OpenQASM 3 that qiskit loads back
    assert verify(qc, back, layout=result.report["layout"], seed=1).equivalent


# ---------------------------------------------------------------------- negative controls
def _fixed_teleport():
    """Sender (q0, q1) on qpu0, receiver (q2, q3) on qpu1: the corrections read bits measured on qpu0."""
    qc = teleportation()
    return qc, dqc_compiler.compile(qc, qpus=2, partition=[0, 0, 1, 1])


def _input_ifs(circuit: QuantumCircuit, register: str = "c") -> list[int]:
    return [i for i, inst in enumerate(circuit.data) if isinstance(inst.operation, IfElseOp)
            and circuit.find_bit(inst.operation.condition[0]).registers[0][0].name == register]


def _flip(instruction):
    op = instruction.operation
    bit, value = op.condition
    return instruction.replace(operation=IfElseOp((bit, 1 - int(value)), op.blocks[0]))


def test_input_bits_read_on_another_qpu_are_classical_messages():
    qc, result = _fixed_teleport()
    cost = result.report["cost"]
    protocol = sum(1 for inst in result.circuit.data if inst.operation.name == "measure"
                   and result.circuit.find_bit(inst.clbits[0]).registers[0][0].name.endswith("_m"))
    assert cost["classical_bits"] == protocol + 2  # c[0] and c[1] travel from qpu0 to qpu1
    assert cost["ebits"] == 1
    programs, messages = split_programs(result.circuit, result.property_set["dqc_timeline"], result.network)
    sent = {(m["from"], m["to"], m["bit"]) for m in messages["messages"]}
    assert {("qpu0", "qpu1", "c[0]"), ("qpu0", "qpu1", "c[1]")} <= sent
    assert verify(qc, assemble(programs, messages), layout=result.report["layout"], seed=2).equivalent


@pytest.mark.parametrize("method", ["exact", "random"])
def test_broken_teleportation_outputs_are_caught(method):
    qc, result = _fixed_teleport()
    data = list(result.circuit.data)
    ifs = _input_ifs(result.circuit)
    assert len(ifs) == 2
    assert verify(qc, result.circuit, method=method, seed=4).equivalent
    dropped = rebuild(result.circuit, data[:ifs[0]] + data[ifs[0] + 1:])
    wrong = rebuild(result.circuit, data[:ifs[1]] + [_flip(data[ifs[1]])] + data[ifs[1] + 1:])
    measured = next(i for i, inst in enumerate(data) if inst.operation.name == "measure"
                    and bit_label(result.circuit, inst.clbits[0]) == "c[1]")
    moved = rebuild(result.circuit, data[:measured] + data[measured + 1:ifs[1] + 1] + [data[measured]]
                    + data[ifs[1] + 1:])
    for broken in (dropped, wrong, moved):
        assert not verify(qc, broken, method=method, seed=4).equivalent


def test_dqc_verify_rejects_a_wrong_condition(tmp_path, capsys):
    qc, result = _fixed_teleport()
    data = list(result.circuit.data)
    first = _input_ifs(result.circuit)[0]
    wrong = rebuild(result.circuit, data[:first] + [_flip(data[first])] + data[first + 1:])
    original, good, bad = tmp_path / "t.qasm", tmp_path / "good.qasm", tmp_path / "bad.qasm"
    original.write_text(qasm3.dumps(qc))
    good.write_text(dqc_compiler.io.dumps_qasm3(result.circuit))
    bad.write_text(dqc_compiler.io.dumps_qasm3(wrong))
    assert main(["verify", str(original), str(good)]) == 0
    assert main(["verify", str(original), str(bad)]) == 1
    capsys.readouterr()


# ---------------------------------------------------------------------- random dynamic circuits
_ONE_QUBIT = ["h", "x", "s", "t", "rz", "ry"]


@st.composite
def dynamic_circuits(draw):
    """A random circuit of gates, mid-circuit measurements, resets and single- or two-qubit gates
    under a bit condition (some with an else branch), ending with a probe: ``reset b; h a;
    measure a -> p; if (p) x b`` with ``a`` and ``b`` on different QPUs."""
    n = draw(st.integers(3, 4))
    k = draw(st.integers(2, 3))
    q, c, p = QuantumRegister(n, "q"), ClassicalRegister(3, "c"), ClassicalRegister(1, "p")
    qc = QuantumCircuit(q, c, p)
    for _ in range(draw(st.integers(4, 12))):
        kind = draw(st.sampled_from(["1q", "2q", "measure", "reset", "if1", "if2", "ifelse"]))
        a, b = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        bit = c[draw(st.integers(0, 2))]
        gate = draw(st.sampled_from(_ONE_QUBIT))
        angle = draw(st.floats(0.1, 3.0))
        apply = (lambda g=gate, t=a, x=angle: getattr(qc, g)(x, t) if g in ("rz", "ry") else getattr(qc, g)(t))
        if kind == "1q":
            apply()
        elif kind == "2q":
            qc.cx(a, b) if draw(st.booleans()) else qc.cp(angle, a, b)
        elif kind == "measure":
            qc.measure(a, bit)
        elif kind == "reset":
            qc.reset(a)
        elif kind in ("if1", "if2"):
            with qc.if_test((bit, draw(st.integers(0, 1)))):
                apply() if kind == "if1" else qc.cx(a, b)
        else:
            with qc.if_test((bit, 1)) as otherwise:
                apply()
            with otherwise:
                qc.cx(b, a)
    qc.reset(n - 1)
    qc.h(0)
    qc.measure(0, p[0])
    with qc.if_test((p[0], 1)):
        qc.x(n - 1)
    parts = [draw(st.integers(0, k - 1)) for _ in range(n)]
    if parts[0] == parts[n - 1]:
        parts[n - 1] = (parts[0] + 1) % k
    return qc, Network.all_to_all(k, n, 2), parts


@settings(max_examples=examples(12))
@given(dynamic_circuits())
def test_random_dynamic_circuits_verify_and_broken_copies_fail(case):
    qc, network, parts = case
    result = dqc_compiler.compile(qc, network, partition=parts)
    assert not contract_violations(result.circuit)
    assert verify(qc, result.circuit, seed=5).equivalent
    data = list(result.circuit.data)
    probe = _input_ifs(result.circuit, "p")
    assert len(probe) == 1
    i = probe[0]
    wrong = rebuild(result.circuit, data[:i] + [_flip(data[i])] + data[i + 1:])
    dropped = rebuild(result.circuit, data[:i] + data[i + 1:])
    assert not verify(qc, wrong, seed=5).equivalent
    assert not verify(qc, dropped, seed=5).equivalent


# ---------------------------------------------------------------------- the lowering, branch by branch
def _branch_states(circuit: QuantumCircuit, deferral: Deferral, create: bool) -> np.ndarray:
    names = {bit_label(circuit, b) for b in circuit.clbits}
    index = {q: i for i, q in enumerate(circuit.qubits)}
    ops = deferral.rewrite(circuit.data, lambda b: bit_label(circuit, b), names, index.get, create, "circuit")
    return ops


def _same_branches(raw: QuantumCircuit, lowered: QuantumCircuit) -> bool:
    """Whether, for every record of measured values, the two leave the same state (up to a phase)
    with the same probability: the channels with classical outputs agree."""
    deferral = Deferral()
    first = _branch_states(raw, deferral, True)
    second = _branch_states(lowered, deferral, False)
    qubits = list(raw.qubits) + deferral.extra
    states = []
    for ops in (first, second):
        sim = QuantumCircuit(qubits)
        for prep in range(raw.num_qubits):
            sim.ry(0.3 + 0.4 * prep, prep)
            sim.rz(0.2 + 0.5 * prep, prep)
        for op, on, _ in ops:
            sim.append(op, on)
        states.append(Statevector(sim).data.reshape(2 ** len(deferral.extra), 2 ** raw.num_qubits))
    for a, b in zip(*states):
        if abs(np.linalg.norm(a) - np.linalg.norm(b)) > 1e-9:
            return False
        if np.linalg.norm(a) > 1e-9 and abs(abs(np.vdot(a, b)) - np.linalg.norm(a) ** 2) > 1e-9:
            return False
    return True


@settings(max_examples=examples(20))
@given(st.integers(2, 3), st.integers(0, 7), st.sampled_from(["x", "h", "ry", "cx", "cp", "swap"]), st.booleans())
def test_conditions_on_several_bits_are_rewritten_exactly(bits, value, gate, with_else):
    n = bits + 2
    q, c = QuantumRegister(n, "q"), ClassicalRegister(bits, "c")
    raw = QuantumCircuit(q, c)
    for i in range(bits):
        raw.h(i)
        raw.measure(i, i)
    a, b = n - 2, n - 1
    body = {"x": lambda: raw.x(b), "h": lambda: raw.h(b), "ry": lambda: raw.ry(0.7, b), "cx": lambda: raw.cx(a, b),
            "cp": lambda: raw.cp(1.1, a, b), "swap": lambda: raw.swap(a, b)}[gate]
    with raw.if_test((c, value % (1 << bits))) as otherwise:
        body()
    if with_else:
        with otherwise:
            raw.sx(a)
    lowered = PassManager([LowerControlFlow()]).run(raw)
    assert all(len(i.operation.blocks[0].data) == 1 and not isinstance(i.operation.condition[0], ClassicalRegister)
               for i in lowered.data if isinstance(i.operation, IfElseOp))
    assert _same_branches(raw, lowered)
    broken = lowered.copy_empty_like()
    flipped = False
    for inst in lowered.data:
        if isinstance(inst.operation, IfElseOp) and not flipped:
            inst, flipped = _flip(inst), True
        broken.append(inst)
    assert not _same_branches(raw, broken)  # the check can fail


@settings(max_examples=examples(20))
@given(st.integers(2, 3), st.lists(st.integers(0, 7), min_size=2, max_size=5), st.sampled_from(["x", "ry", "cx"]))
def test_a_run_of_register_conditions_on_one_gate_is_merged_exactly(bits, values, gate):
    """``if(c==v1) g; if(c==v2) g; ...`` (values may repeat: a repeated value is not merged)."""
    n = bits + 2
    q, c = QuantumRegister(n, "q"), ClassicalRegister(bits, "c")
    raw = QuantumCircuit(q, c)
    for i in range(bits):
        raw.h(i)
        raw.measure(i, i)
    for value in values:
        with raw.if_test((c, value % (1 << bits))):
            {"x": lambda: raw.x(n - 1), "ry": lambda: raw.ry(0.9, n - 1), "cx": lambda: raw.cx(n - 2, n - 1)}[gate]()
    lowered = PassManager([LowerControlFlow()]).run(raw)
    assert _same_branches(raw, lowered)


def test_teleportation_with_register_conditions_needs_one_bit_per_correction():
    qc = _named("teleport-qasm2")
    result = dqc_compiler.compile(qc, qpus=2, partition=[0, 0, 1, 1])
    corrections = [(bit_label(result.circuit, i.operation.condition[0]), i.operation.blocks[0].data[0].operation.name)
                   for i in result.circuit.data if isinstance(i.operation, IfElseOp)
                   and bit_label(result.circuit, i.operation.condition[0]).startswith("c[")]
    assert sorted(corrections) == [("c[0]", "z"), ("c[1]", "x")]
    assert verify(qc, result.circuit, method="exact").equivalent


def test_commutator_is_exact():
    from qiskit.quantum_info import random_unitary

    for seed in range(20):
        u = random_unitary(2, seed=seed).data
        v = u / np.sqrt(np.linalg.det(u))
        a, b = commutator(v)
        assert np.allclose(a @ b @ a.conj().T @ b.conj().T, v)


def test_known_zero_bits_reduce_a_register_condition_to_one_bit():
    qc = qasm2.loads(cc_like(4), custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    lowered = PassManager([LowerControlFlow()]).run(qc)
    conditions = {bit_label(lowered, i.operation.condition[0]) for i in lowered.data if isinstance(i.operation, IfElseOp)}
    assert conditions == {"c0[3]"}
    assert _same_branches(qc, lowered)


# ---------------------------------------------------------------------- the burst model
def test_measurement_keeps_only_z_copies_reset_breaks_all_and_conditions_keep_controls():
    qc = QuantumCircuit(2, 1)
    qc.measure(0, 0)
    qc.reset(1)
    with qc.if_test((qc.clbits[0], 1)):
        qc.cx(0, 1)
    lowered = PassManager([LowerControlFlow()]).run(qc)
    nodes = list(circuit_to_dag(lowered).topological_op_nodes())
    measure, reset = sorted(nodes[:2], key=lambda node: node.name)
    assert (role_of(measure, 0).z, role_of(measure, 0).x) == ("keep", "break")
    assert (role_of(reset, 0).z, role_of(reset, 0).x) == ("break", "break")
    conditioned = nodes[2]
    assert role_of(conditioned, 0).z == "keep"  # the cx control
    assert role_of(conditioned, 1).x == "keep"  # the cx target, in the X basis
    assert role_of(conditioned, 1).z == "break"


def test_a_z_copy_survives_a_measurement_of_its_qubit():
    qc = QuantumCircuit(3, 1)
    qc.h(0)
    qc.ry(0.4, 1)
    qc.ry(0.9, 2)
    qc.cx(0, 1)
    qc.measure(0, 0)
    qc.cx(0, 2)
    qc.cp(0.7, 0, 1)
    result = dqc_compiler.compile(qc, Network.all_to_all(2, 2, 2), partition=[0, 1, 1])
    assert result.report["cost"]["ebits"] == 1  # one Z copy of q0 serves the gates before and after
    data = list(result.circuit.data)
    assert data.index(next(i for i in data if i.operation.name == "measure" and bit_label(result.circuit, i.clbits[0])
                           == "c[0]")) < max(k for k, i in enumerate(data) if i.operation.name == "cx")
    for method in ("exact", "random", "stabilizer"):
        assert verify(qc, result.circuit, method=method).equivalent
    late = [k for k, i in enumerate(data) if i.operation.name == "cx"][-1]
    moved = rebuild(result.circuit, data[:late] + [data[late].replace(qubits=data[late].qubits[::-1])] + data[late + 1:])
    assert not verify(qc, moved, method="exact").equivalent


def test_a_measurement_before_an_absorbed_final_swap_stays_mid_circuit():
    qc = QuantumCircuit(3, 2)
    qc.h(0)
    qc.cx(0, 2)
    qc.measure(0, 0)
    qc.rx(0.3, 0)
    qc.measure(1, 1)
    qc.swap(0, 1)  # absorbed into the layout: the measurement of q0 is then last on its wire
    result = dqc_compiler.compile(qc, qpus=2, partition=[0, 0, 1])
    assert result.report["layout"]["final"] != result.report["layout"]["initial"]
    assert verify(qc, result.circuit, method="exact").equivalent
    data = list(result.circuit.data)
    rx = next(k for k, i in enumerate(data) if i.operation.name == "rx")
    assert not verify(qc, rebuild(result.circuit, data[:rx] + data[rx + 1:]), method="exact").equivalent


def test_a_nonlocal_conditioned_gate_is_served_by_a_telegate_under_its_condition():
    qc = QuantumCircuit(2, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.h(0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.cx(0, 1)
    result = dqc_compiler.compile(qc, qpus=2, partition=[0, 1])
    assert result.report["cost"]["ebits"] == 1
    assert verify(qc, result.circuit, method="exact").equivalent


# ---------------------------------------------------------------------- what stays refused
def _while() -> QuantumCircuit:
    qc = QuantumCircuit(2, 1)
    qc.h(0)
    with qc.while_loop((qc.clbits[0], 0)):
        qc.h(0)
        qc.measure(0, 0)
    return qc


def _switch() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.measure(0, 0)
    with qc.switch(qc.cregs[0] if qc.cregs else ClassicalRegister(2)) as case:
        with case(0):
            qc.x(1)
    return qc


def _too_many_bits() -> QuantumCircuit:
    bits = MAX_CONDITION_BITS + 1
    qc = QuantumCircuit(QuantumRegister(bits + 1, "q"), ClassicalRegister(bits, "c"))
    for i in range(bits):
        qc.measure(i, i)
    with qc.if_test((qc.cregs[0], 5)):
        qc.x(bits)
    return qc


def _long_loop() -> QuantumCircuit:
    qc = QuantumCircuit(2)
    with qc.for_loop(range(MAX_UNROLLED + 1)):
        qc.h(0)
    return qc


def _measure_in_if() -> QuantumCircuit:
    qc = QuantumCircuit(2, 1)
    with qc.if_test((qc.clbits[0], 1)):
        qc.measure(1, 0)
    return qc


@pytest.mark.parametrize("build, message", [
    (_while, r"operation 1 \('while_loop' on q\[0\]\): 'while' loops are not supported"),
    (_switch, r"'switch' is not supported"),
    (_too_many_bits, rf"depends on {MAX_CONDITION_BITS + 1} measured bits"),
    (_long_loop, r"more than \d+ operations"),
    (_measure_in_if, r"'measure' inside an 'if' body"),
], ids=["while", "switch", "condition-on-too-many-bits", "for-too-long", "measure-in-if"])
def test_what_stays_refused(build, message):
    try:
        circuit = build()
    except Exception as exc:  # pragma: no cover - a qiskit version that cannot build the case
        pytest.skip(f"qiskit cannot build this case: {exc}")
    with pytest.raises(DQCError, match=message):
        dqc_compiler.compile(circuit, qpus=2)


def test_cli_compiles_a_qasm3_program_with_if_else_and_for(tmp_path, capsys):
    source = tmp_path / "dyn.qasm"
    source.write_text(QASM3_PROGRAM)
    out, report, split = tmp_path / "out.qasm", tmp_path / "r.json", tmp_path / "split"
    assert main(["compile", str(source), "--qpus", "2", "-o", str(out), "--report", str(report), "--verify",
                 "--split", str(split)]) == 0
    data = json.loads(report.read_text())
    assert data["verification"]["equivalent"]
    assert main(["verify", str(source), str(out)]) == 0
    messages = json.loads((split / "messages.json").read_text())
    assert len(messages["messages"]) <= data["cost"]["classical_bits"]
    assert not contract_violations(load_circuit(out))
    capsys.readouterr()
