"""The telegate protocol as circuit operations: cat-entangler and cat-disentangler.

Eisert, Jacobs, Papadopoulos & Plenio, "Optimal local implementation of nonlocal quantum gates",
Phys. Rev. A 62, 052317 (2000). One ebit and one classical bit each way give a remote QPU a
cat-entangled copy ``a|0>|0> + b|1>|1>`` of a qubit; every gate controlled on the qubit can then act
on the copy instead. Emitted as dynamic-circuit code: mid-circuit measurement, single-bit ``if``
with gate-only bodies, and resets that return the comm qubits to |0>.
"""

from __future__ import annotations

from qiskit.circuit import Clbit, IfElseOp, Instruction, QuantumCircuit, Qubit
from qiskit.circuit.library import CXGate, HGate, Measure, Reset, XGate, ZGate
from qiskit.dagcircuit import DAGCircuit

from .gates import EPRGate


def conditional(gate: Instruction, qubit: Qubit, bit: Clbit) -> tuple[IfElseOp, tuple, tuple]:
    """``if (bit) gate qubit;`` as an operation with its qargs and cargs."""
    body = QuantumCircuit([qubit], [bit])
    body.append(gate, [qubit])
    return IfElseOp((bit, 1), body), (qubit,), (bit,)


def share_ebit(
    dag: DAGCircuit, home_comm: Qubit, remote_comm: Qubit, relays: tuple = (), relay_bits: tuple = ()
) -> None:
    """Leave ``home_comm`` and ``remote_comm`` in the Bell state ``(|00> + |11>)/sqrt(2)``.

    Directly: ``epr home_comm, remote_comm``. Through relays (entanglement swapping):
    ``relays`` are the ``(in, out)`` comm-qubit pairs of the QPUs on the path, ``relay_bits`` a
    pair of bits each. One ``epr`` per link (``home - in1``, ``out1 - in2``, ..., ``outN -
    remote``), then on every relay a Bell measurement ``cx in, out; h in; measure in -> a;
    measure out -> b; reset in; reset out`` and at the remote end ``if (b) x remote_comm; if (a)
    z remote_comm;``. The relays' comm qubits are free again at the end.
    """
    chain = [home_comm, *(q for pair in relays for q in pair), remote_comm]
    for first, second in zip(chain[0::2], chain[1::2]):
        dag.apply_operation_back(EPRGate(), (first, second))
    for (inner, outer), (a, b) in zip(relays, relay_bits):
        dag.apply_operation_back(CXGate(), (inner, outer))
        dag.apply_operation_back(HGate(), (inner,))
        dag.apply_operation_back(Measure(), (inner,), (a,))
        dag.apply_operation_back(Measure(), (outer,), (b,))
        dag.apply_operation_back(Reset(), (inner,))
        dag.apply_operation_back(Reset(), (outer,))
        dag.apply_operation_back(*conditional(XGate(), remote_comm, b))
        dag.apply_operation_back(*conditional(ZGate(), remote_comm, a))


def cat_entangle(
    dag: DAGCircuit,
    data: Qubit,
    home_comm: Qubit,
    remote_comm: Qubit,
    bit: Clbit,
    basis: str = "Z",
    relays: tuple = (),
    relay_bits: tuple = (),
) -> None:
    """Make ``remote_comm`` a copy of ``data`` in ``basis`` (1 ebit, 1 classical bit home -> remote).

    ``epr home_comm, remote_comm; cx data, home_comm; measure home_comm -> bit; reset home_comm;
    if (bit) x remote_comm;`` — ``home_comm`` is free again at the end. The ``X`` basis wraps this
    in ``h data`` before and ``h data; h remote_comm`` after. Between QPUs without a link the
    ebit is swapped through ``relays`` (see :func:`share_ebit`).
    """
    if basis == "X":
        dag.apply_operation_back(HGate(), (data,))
    share_ebit(dag, home_comm, remote_comm, relays, relay_bits)
    dag.apply_operation_back(CXGate(), (data, home_comm))
    dag.apply_operation_back(Measure(), (home_comm,), (bit,))
    dag.apply_operation_back(Reset(), (home_comm,))
    dag.apply_operation_back(*conditional(XGate(), remote_comm, bit))
    if basis == "X":
        dag.apply_operation_back(HGate(), (data,))
        dag.apply_operation_back(HGate(), (remote_comm,))


def cat_disentangle(
    dag: DAGCircuit, data: Qubit, remote_comm: Qubit, bit: Clbit, basis: str = "Z", framed: bool = False
) -> None:
    """Undo :func:`cat_entangle` (1 classical bit remote -> home); ``remote_comm`` ends in |0>.

    ``h remote_comm; measure remote_comm -> bit; reset remote_comm; if (bit) z data;`` — in the
    ``X`` basis the ``h`` is left out and the correction is an ``x``. ``framed``: a ``Z`` copy
    closed inside a Hadamard sandwich (:mod:`dqc_compiler.embedding`), whose data qubit is in the
    X frame: the correction is ``x`` (``H Z H``).
    """
    if basis == "Z":
        dag.apply_operation_back(HGate(), (remote_comm,))
    dag.apply_operation_back(Measure(), (remote_comm,), (bit,))
    dag.apply_operation_back(Reset(), (remote_comm,))
    dag.apply_operation_back(*conditional(ZGate() if basis == "Z" and not framed else XGate(), data, bit))


def correct_copy(dag: DAGCircuit, copy: Qubit, flips: tuple[int, int], control: Qubit | None = None) -> None:
    """The correction of a copy in the X frame after an embedded gate (:mod:`dqc_compiler.embedding`):
    ``x`` on the copy when ``control`` is 0 (``flips[0]``) and when it is 1 (``flips[1]``), as
    ``x copy`` and/or ``cx control, copy`` (``control`` lives on the copy's QPU)."""
    if flips[0]:
        dag.apply_operation_back(XGate(), (copy,))
    if flips[0] != flips[1]:
        dag.apply_operation_back(CXGate(), (control, copy))


def flip_copy(dag: DAGCircuit, copy: Qubit, basis: str) -> None:
    """Keep a copy valid after a gate that flips its qubit in ``basis`` (the embedding of an
    anti-diagonal gate): ``x`` on a ``Z`` copy, ``z`` on an ``X`` copy."""
    dag.apply_operation_back(XGate() if basis == "Z" else ZGate(), (copy,))


def teleport(
    dag: DAGCircuit,
    data: Qubit,
    home_comm: Qubit,
    remote_comm: Qubit,
    bits: tuple[Clbit, Clbit],
    target: Qubit | None = None,
    relays: tuple = (),
    relay_bits: tuple = (),
) -> None:
    """Teledata: move the state of ``data`` to ``remote_comm`` (1 ebit, 2 classical bits home -> remote).

    ``epr home_comm, remote_comm; cx data, home_comm; h data; measure data -> bits[0];
    measure home_comm -> bits[1]; if (bits[0]) x data; reset home_comm; if (bits[1]) x remote_comm;
    if (bits[0]) z remote_comm;`` (Bennett et al. 1993). ``data`` and ``home_comm`` end in |0>
    (``data`` by a conditioned ``x``, not a reset: a reset of a data position would read, to the
    verifier, as a reset of the input qubit that started there).
    With ``target`` (a free data qubit, in |0>, on the remote QPU) the state moves on into it:
    ``cx remote_comm, target; cx target, remote_comm; reset remote_comm``. Between QPUs without a
    link the ebit is swapped through ``relays`` (see :func:`share_ebit`).
    """
    share_ebit(dag, home_comm, remote_comm, relays, relay_bits)
    z_bit, x_bit = bits
    dag.apply_operation_back(CXGate(), (data, home_comm))
    dag.apply_operation_back(HGate(), (data,))
    dag.apply_operation_back(Measure(), (data,), (z_bit,))
    dag.apply_operation_back(Measure(), (home_comm,), (x_bit,))
    dag.apply_operation_back(*conditional(XGate(), data, z_bit))
    dag.apply_operation_back(Reset(), (home_comm,))
    dag.apply_operation_back(*conditional(XGate(), remote_comm, x_bit))
    dag.apply_operation_back(*conditional(ZGate(), remote_comm, z_bit))
    if target is not None:
        settle(dag, remote_comm, target)


def settle(dag: DAGCircuit, comm: Qubit, target: Qubit) -> None:
    """Move a state from ``comm`` into the free (|0>) data qubit ``target`` on the same QPU:
    ``cx comm, target; cx target, comm; reset comm`` (the reset is a no-op that frees ``comm``)."""
    dag.apply_operation_back(CXGate(), (comm, target))
    dag.apply_operation_back(CXGate(), (target, comm))
    dag.apply_operation_back(Reset(), (comm,))
