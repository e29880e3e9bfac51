"""Absorb the swaps at the end of the circuit into the final layout: a relabelling costs no ebits."""

from __future__ import annotations

from qiskit.dagcircuit import DAGCircuit, DAGOpNode
from qiskit.transpiler.basepasses import TransformationPass


class AbsorbFinalSwaps(TransformationPass):
    """Remove ``swap`` gates that nothing follows and set ``property_set["dqc_output_permutation"]``.

    ``permutation[i]`` is the input qubit whose wire carries qubit ``i``'s output once those swaps
    are gone; :class:`~dqc_compiler.passes.InsertTelegates` reports it as ``layout.final`` and
    measures there. A QFT's closing swaps, worth at least two ebits each when they cross QPUs, cost
    nothing this way. ``property_set["dqc_absorbed_swaps"]`` counts them. Run after
    :class:`~dqc_compiler.passes.SplitFinalMeasurements`, so that final measurements do not hide them.
    """

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        index = {q: dag.find_bit(q).index for q in dag.qubits}
        permutation = list(range(dag.num_qubits()))
        absorbed = 0
        changed = True
        while changed:
            changed = False
            for node in list(dag.op_nodes()):
                if node.name != "swap" or node.cargs:
                    continue
                if any(isinstance(s, DAGOpNode) for s in dag.successors(node)):
                    continue
                a, b = (index[q] for q in node.qargs)
                permutation = [b if w == a else a if w == b else w for w in permutation]
                dag.remove_op_node(node)
                absorbed += 1
                changed = True
        self.property_set["dqc_output_permutation"] = permutation
        self.property_set["dqc_absorbed_swaps"] = absorbed
        return dag
