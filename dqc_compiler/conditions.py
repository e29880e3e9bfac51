"""Classically conditioned gates as the compiler carries them: one gate in a single-bit ``if``."""

from __future__ import annotations

from qiskit.circuit import Clbit, IfElseOp, Instruction, QuantumCircuit

from .errors import DQCError


def conditioned(gate: Instruction, qubits, bit: Clbit, value: int) -> tuple[IfElseOp, tuple, tuple]:
    """``if (bit == value) gate qubits;`` as an operation with its qargs and cargs."""
    body = QuantumCircuit(list(qubits), [bit])
    body.append(gate, list(qubits))
    return IfElseOp((bit, int(value)), body), tuple(qubits), (bit,)


def body_gate(op: IfElseOp) -> Instruction:
    """The one gate of a lowered ``if`` (see :func:`conditioned`); its qubits are the node's, in order."""
    inner = op.blocks[0].data
    if len(inner) != 1 or (len(op.blocks) > 1 and op.blocks[1] is not None and op.blocks[1].data):
        raise DQCError(f"an 'if' with {len(inner)} operations reached the burst model; it should have been lowered")
    return inner[0].operation
