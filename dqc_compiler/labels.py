"""Readable names for circuit bits in messages: ``q[3]`` rather than ``Qubit(...)``."""

from __future__ import annotations

from qiskit.circuit import Bit


def bit_label(circuit, bit: Bit) -> str:
    """``reg[i]`` for a bit of ``circuit`` (a QuantumCircuit or DAGCircuit); ``#i`` for a loose bit."""
    location = circuit.find_bit(bit)
    if location.registers:
        register, index = location.registers[0]
        return f"{register.name}[{index}]"
    return f"#{location.index}"
