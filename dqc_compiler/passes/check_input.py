"""Refuse input the compiler cannot distribute correctly, before any work is done."""

from __future__ import annotations

import cmath
import math

from qiskit.circuit import ClassicalRegister, Clbit, ControlFlowOp, ForLoopOp, IfElseOp, ParameterExpression
from qiskit.circuit.library import UnitaryGate
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass

from ..errors import DQCError
from ..gates import has_synthesis
from ..labels import bit_label

_IGNORED = {"barrier", "delay"}
#: What each refused control-flow operation is, for the message.
_REFUSED_FLOW = {
    "while_loop": "'while' loops are not supported (they run an unknown number of times)",
    "switch_case": "'switch' is not supported (write it as 'if' statements on single bits)",
    "break_loop": "'break' is not supported",
    "continue_loop": "'continue' is not supported",
    "box": "'box' is not supported",
}


class CheckSupportedInput(AnalysisPass):
    """Raise :class:`DQCError` for operations whose distribution is not implemented.

    Supported: unitary gates of any width (they are decomposed later), ``barrier`` and ``delay``
    (dropped), ``measure`` and ``reset`` anywhere, ``if``/``else`` on a classical bit or a
    register compared with a value whose bodies hold only gates, and ``for`` loops (unrolled by
    :class:`~dqc_compiler.passes.LowerControlFlow`) over such operations. Refused, with the
    operation and its qubits named: ``while``, ``switch`` and other control flow, conditions that
    are classical expressions, a measurement or reset inside an ``if`` body, and non-unitary
    instructions.
    """

    def run(self, dag: DAGCircuit) -> None:
        if dag.num_qubits() == 0:
            raise DQCError("the circuit has no qubits: nothing to distribute")
        for position, node in enumerate(dag.topological_op_nodes()):
            if node.is_standard_gate() and all(type(p) is float and math.isfinite(p) for p in node.params):
                continue  # a standard gate with finite angles passes every check (node.op is costly to build)
            where = f"operation {position} ('{node.op.name}' on {', '.join(bit_label(dag, q) for q in node.qargs)})"
            check_operation(node.op, where)


def check_operation(op, where: str, in_body: bool = False) -> None:
    """Raise :class:`DQCError` when ``op`` (at ``where``) is not supported; ``in_body``: inside an ``if``."""
    if op.name in _IGNORED:
        return
    if op.name in ("measure", "reset"):
        if in_body:
            raise DQCError(f"{where}: '{op.name}' inside an 'if' body is not supported (only gates)")
        return
    if isinstance(op, ControlFlowOp):
        if in_body:
            raise DQCError(f"{where}: '{op.name}' nested inside an 'if' body is not supported (only gates)")
        if isinstance(op, IfElseOp):
            _check_condition(op.condition, where)
            for block in op.blocks:
                for inner in block.data:
                    check_operation(inner.operation, where, in_body=True)
            return
        if isinstance(op, ForLoopOp):
            indexset, parameter, body = op.params
            if parameter is not None and len(indexset):
                body = body.assign_parameters({parameter: next(iter(indexset))})
            for inner in body.data:
                check_operation(inner.operation, f"{where}, in the loop body", in_body=False)
            return
        reason = _REFUSED_FLOW.get(op.name, f"control-flow operation '{op.name}' is not supported")
        raise DQCError(f"{where}: {reason}")
    if getattr(op, "_condition", None) is not None or op.name == "store":
        raise DQCError(f"{where}: classical computation ('{op.name}') is not supported")
    if getattr(op, "num_clbits", 0) or (not _standard(op) and getattr(op, "definition", None) is None
                                                   and not has_synthesis(op)):
        raise DQCError(f"{where}: not a unitary gate and has no definition (an 'opaque' gate cannot be "
                       "distributed: define it with 'gate')")
    _check_parameters(op, where)


def _check_condition(condition, where: str) -> None:
    if isinstance(condition, tuple) and isinstance(condition[0], (Clbit, ClassicalRegister)):
        return
    raise DQCError(f"{where}: the condition is a classical expression; only a bit or a register compared "
                   "with a value is supported")


def _standard(op) -> bool:
    """True for gates qiskit knows the matrix of without a definition (its standard gates, ``unitary``)."""
    return getattr(op, "_standard_gate", None) is not None or isinstance(op, UnitaryGate)


def _check_parameters(op, where: str) -> None:
    """Refuse unbound parameters and angles that are not finite numbers."""
    for param in getattr(op, "params", ()):
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
