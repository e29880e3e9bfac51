"""Refuse input the compiler cannot distribute correctly, before any work is done."""

from __future__ import annotations

import cmath

from qiskit.circuit import ControlFlowOp, ParameterExpression
from qiskit.circuit.library import UnitaryGate
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass

from ..errors import DQCError
from ..labels import bit_label

_IGNORED = {"barrier", "delay"}


class CheckSupportedInput(AnalysisPass):
    """Raise :class:`DQCError` for operations whose distribution is not implemented.

    Supported: unitary gates of any width (they are decomposed later), ``barrier`` and ``delay``
    (dropped), ``reset`` as the first operation on a qubit (a no-op, dropped), and ``measure`` as
    the last operation on a qubit (kept: the output measures the qubit where it ends up).
    Refused, with the operation and its qubit named: mid-circuit measurement, a later reset,
    classically controlled or other control-flow operations, and non-unitary instructions.
    """

    def run(self, dag: DAGCircuit) -> None:
        if dag.num_qubits() == 0:
            raise DQCError("the circuit has no qubits: nothing to distribute")
        final, initial = set(), set()
        for qubit in dag.qubits:
            wire = [n for n in dag.nodes_on_wire(qubit, only_ops=True) if n.name not in _IGNORED]
            if wire and wire[-1].name == "measure":
                final.add(wire[-1])
            for node in wire:
                if node.name != "reset":
                    break
                initial.add(node)
        measured = set()
        for position, node in enumerate(dag.topological_op_nodes()):
            op = node.op
            where = f"operation {position} ('{op.name}' on {', '.join(bit_label(dag, q) for q in node.qargs)})"
            if isinstance(op, ControlFlowOp) or getattr(op, "condition", None) is not None:
                raise DQCError(f"{where}: classically controlled operations in the input are not supported yet")
            if op.name in _IGNORED:
                continue
            if op.name == "measure":
                if node not in final:
                    raise DQCError(f"{where}: mid-circuit measurement is not supported yet (only final measurements)")
                if node.cargs[0] in measured:
                    raise DQCError(f"{where}: {bit_label(dag, node.cargs[0])} is measured twice")
                measured.add(node.cargs[0])
                continue
            if op.name == "reset":
                if node not in initial:
                    raise DQCError(f"{where}: reset after other operations is not supported yet")
                continue
            if node.cargs or (not _standard(op) and op.definition is None):
                raise DQCError(f"{where}: not a unitary gate and has no definition (an 'opaque' gate cannot be "
                               "distributed: define it with 'gate')")
            _check_parameters(op, where)


def _standard(op) -> bool:
    """True for gates qiskit knows the matrix of without a definition (its standard gates, ``unitary``)."""
    return getattr(op, "_standard_gate", None) is not None or isinstance(op, UnitaryGate)


def _check_parameters(op, where: str) -> None:
    """Refuse unbound parameters and angles that are not finite numbers."""
    for param in op.params:
        if isinstance(param, ParameterExpression):
            if param.parameters:
                names = ", ".join(sorted(p.name for p in param.parameters))
                raise DQCError(f"{where}: unbound parameter {names}: give it a value (e.g. bind it, or write a "
                               "number in the file)")
            try:
                param = complex(param)
            except (TypeError, ValueError):
                continue
        if isinstance(param, (int, float, complex)) and not cmath.isfinite(param):
            raise DQCError(f"{where}: parameter {param} is not a finite number")
