"""Take the final measurements off the input, to put them back on the distributed circuit."""

from __future__ import annotations

from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import TransformationPass


class SplitFinalMeasurements(TransformationPass):
    """Remove final ``measure`` operations and record them as ``property_set["dqc_final_measurements"]``.

    The record is a list of ``(input qubit index, Clbit)`` in circuit order. The classical bits stay
    in the circuit; :class:`~dqc_compiler.passes.InsertTelegates` measures each qubit where it ends
    up into the same bit. A measurement is final when nothing after it touches its qubit or its
    bit (no later ``if`` reads the bit, no later measurement overwrites it); the others are
    mid-circuit measurements and stay where they are.
    """

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        record = []
        for node in list(dag.topological_op_nodes()):
            if node.name == "measure" and _last_on(dag, node, node.qargs[0]) and _last_on(dag, node, node.cargs[0]):
                record.append((dag.find_bit(node.qargs[0]).index, node.cargs[0]))
                dag.remove_op_node(node)
        self.property_set["dqc_final_measurements"] = record
        return dag


def _last_on(dag: DAGCircuit, node, wire) -> bool:
    """Whether ``node`` is the last operation on ``wire``, barriers and delays apart."""
    last = None
    for other in dag.nodes_on_wire(wire, only_ops=True):
        if other.name not in ("barrier", "delay"):
            last = other
    return last is not None and last._node_id == node._node_id
