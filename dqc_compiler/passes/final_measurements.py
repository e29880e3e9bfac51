"""Take the final measurements off the input, to put them back on the distributed circuit."""

from __future__ import annotations

from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import TransformationPass


class SplitFinalMeasurements(TransformationPass):
    """Remove final ``measure`` operations and record them as ``property_set["dqc_final_measurements"]``.

    The record is a list of ``(input qubit index, Clbit)`` in circuit order. The classical bits stay
    in the circuit; :class:`~dqc_compiler.passes.InsertTelegates` measures each qubit where it ends
    up into the same bit. Run after :class:`~dqc_compiler.passes.CheckSupportedInput`, which
    guarantees every measurement is final.
    """

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        record = []
        for node in list(dag.topological_op_nodes()):
            if node.name == "measure":
                record.append((dag.find_bit(node.qargs[0]).index, node.cargs[0]))
                dag.remove_op_node(node)
        self.property_set["dqc_final_measurements"] = record
        return dag
