"""Decompose the input to one- and two-qubit gates, keeping controlled and diagonal gates whole."""

from __future__ import annotations

from qiskit.circuit import QuantumCircuit
from qiskit.circuit.equivalence_library import SessionEquivalenceLibrary
from qiskit.converters import circuit_to_dag
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import TransformationPass
from qiskit.transpiler.exceptions import TranspilerError
from qiskit.transpiler.passes import BasisTranslator, HighLevelSynthesis, Unroll3qOrMore, UnrollCustomDefinitions

from ..errors import DQCError
from ..gates import BASIS, BASIS_3Q, has_synthesis
from .keep_whole import KeepGatesWhole

_DROPPED = {"barrier", "delay", "id"}


class Normalise(TransformationPass):
    """Rewrite the circuit over :data:`~dqc_compiler.gates.BASIS`.

    Barriers, delays, identities and initial resets (a qubit starts in |0>) are dropped: they do
    not change the computation and would stand in the way of grouping. Later resets, measurements
    and single-bit ``if`` statements (see :class:`~dqc_compiler.passes.LowerControlFlow`) stay;
    the gates in ``if`` bodies are translated like the others. User-defined gates are inlined, gates
    on three or more qubits are unrolled, and the rest is translated with qiskit's equivalence
    library. Two-qubit gates that are controlled on a qubit (``cx``, ``cp``, ``crz``, ``rzz``, ...)
    stay whole. Any other two-qubit gate that can be kept whole, decided from its matrix by
    :class:`~dqc_compiler.passes.keep_whole.KeepGatesWhole` (``cu1`` -> ``cp``; operator-Schmidt
    rank 2, such as ``rxx`` or ``ecr``, -> one-qubit gates and one controlled gate), is rewritten
    so, before user gates are inlined and again after unrolling; the rest (``swap`` -> three ``cx``)
    is translated. With ``keep_multi``, ``ccx`` and ``ccz`` (:data:`~dqc_compiler.gates.BASIS_3Q`)
    stay whole too, and so does any three-qubit gate whose matrix is one of them.

    Complexity: O(g) for g input operations (each is translated once; a circuit already over the
    basis skips the unrolling passes).
    """

    def __init__(self, keep_multi: bool = False):
        super().__init__()
        self.keep_multi = keep_multi

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        basis = list(BASIS) + (list(BASIS_3Q) if self.keep_multi else []) + ["if_else"]
        for node in list(dag.op_nodes()):
            if node.name in _DROPPED:
                dag.remove_op_node(node)
        for qubit in dag.qubits:  # a reset before anything else on its qubit does nothing
            for node in list(dag.nodes_on_wire(qubit, only_ops=True)):
                if node.name != "reset":
                    break
                dag.remove_op_node(node)
        try:
            _synthesise_high_level(dag, basis)
            dag = KeepGatesWhole(self.keep_multi).run(dag)  # by matrix, before user gates are inlined
            if not set(dag.count_ops(recurse=False)) <= set(basis) - {"if_else"} or dag.multi_qubit_ops():
                # (with every operation a gate of the basis and none on three qubits, both do nothing)
                dag = UnrollCustomDefinitions(SessionEquivalenceLibrary, basis_gates=basis).run(dag)
                dag = Unroll3qOrMore(basis_gates=basis).run(dag)
            dag = KeepGatesWhole(self.keep_multi).run(dag)  # what unrolling left, e.g. cu1 in a definition
            dag = BasisTranslator(SessionEquivalenceLibrary, basis).run(dag)
        except TranspilerError as exc:
            raise DQCError(f"cannot decompose the input: {_first_line(str(exc))}") from None
        except RecursionError:
            raise DQCError("cannot decompose the input: gate definitions nested too deeply") from None
        for node in dag.op_nodes():
            if len(node.qargs) > 2 and node.name not in basis:  # pragma: no cover - qiskit's unrolling guarantees this
                raise DQCError(f"gate '{node.op.name}' could not be decomposed to two-qubit gates")
        return dag


def _synthesise_high_level(dag: DAGCircuit, basis: list[str]) -> None:
    """Replace, in place, each operation that has no definition but a high-level synthesis plugin by
    what qiskit's :class:`HighLevelSynthesis` (default method) makes of it. Other operations are left
    to the usual unrolling, so circuits without such objects are unchanged."""
    for node in list(dag.op_nodes()):
        if node.is_standard_gate():  # (node.op would build the object only to find that out)
            continue
        if getattr(node.op, "_standard_gate", None) is None and has_synthesis(node.op):
            alone = QuantumCircuit(len(node.qargs))
            alone.append(node.op, range(len(node.qargs)))
            built = HighLevelSynthesis(basis_gates=basis)(alone)
            dag.substitute_node_with_dag(node, circuit_to_dag(built))


def _first_line(message: str) -> str:
    return message.strip().strip("'\"").splitlines()[0] if message.strip() else "unknown error"
