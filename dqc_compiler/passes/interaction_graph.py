"""The interaction graph: which input qubits meet in two-qubit gates, and how often."""

from __future__ import annotations

import networkx as nx
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass


class BuildInteractionGraph(AnalysisPass):
    """Set ``property_set["dqc_interaction_graph"]``: nodes are input qubit indices, edge ``weight``
    counts the multi-qubit gates on the pair. Under one telegate per nonlocal gate, the weight
    of the edges a partition cuts is exactly the ebit count."""

    def run(self, dag: DAGCircuit) -> None:
        graph = nx.Graph()
        graph.add_nodes_from(range(dag.num_qubits()))
        for node in dag.op_nodes():
            if len(node.qargs) < 2:
                continue
            qubits = [dag.find_bit(q).index for q in node.qargs]
            for i, a in enumerate(qubits):  # a gate kept whole on 3 qubits links every pair
                for b in qubits[i + 1:]:
                    weight = graph.get_edge_data(a, b, {"weight": 0})["weight"]
                    graph.add_edge(a, b, weight=weight + 1)
        self.property_set["dqc_interaction_graph"] = graph
