"""Group nonlocal two-qubit gates into bursts: each burst is served by one cat-entangled copy."""

from __future__ import annotations

from dataclasses import dataclass, field

from qiskit.dagcircuit import DAGCircuit, DAGOpNode
from qiskit.transpiler.basepasses import AnalysisPass

from ..errors import DQCError
from ..gates import controlled_on


@dataclass
class Burst:
    """Gates between input qubit ``qubit`` (living on QPU ``home``) and qubits of QPU ``remote``.

    One ebit gives QPU ``remote`` a cat-entangled copy of ``qubit`` in the ``basis`` (``"Z"``);
    every gate in ``nodes`` (node ids, ``DAGOpNode._node_id``, of the DAG the bursts were found in,
    in topological order) is then applied on ``remote`` with the copy standing in for ``qubit``.
    Each gate must be controlled on ``qubit`` (block-diagonal in that basis).
    """

    qubit: int
    home: int
    remote: int
    nodes: list[int] = field(default_factory=list)
    basis: str = "Z"


class GroupBursts(AnalysisPass):
    """Set ``property_set["dqc_bursts"]`` from ``dqc_partition``.

    This pass gives every nonlocal two-qubit gate a burst of its own (one telegate per nonlocal
    gate, the cost every distribution compiler must beat). The shared qubit is the one the gate is
    controlled on — decided from the gate's matrix; when it is controlled on both (``cz``, ``cp``,
    ``rzz``, ...) the first qubit is shared.
    """

    def run(self, dag: DAGCircuit) -> None:
        parts = self.property_set["dqc_partition"]
        bursts = []
        for node in dag.topological_op_nodes():
            if node.op.num_qubits != 2:
                continue
            a, b = (dag.find_bit(q).index for q in node.qargs)
            if parts[a] == parts[b]:
                continue
            position = shared_position(node)
            shared, other = (a, b) if position == 0 else (b, a)
            bursts.append(Burst(shared, parts[shared], parts[other], [node._node_id]))
        self.property_set["dqc_bursts"] = bursts


def shared_position(node: DAGOpNode) -> int:
    """The qubit position (0 or 1) a telegate can share for this gate: one the gate is controlled on."""
    for position in (0, 1):
        if controlled_on(node.op, position):
            return position
    raise DQCError(f"gate '{node.op.name}' is controlled on neither qubit; it should have been decomposed")
