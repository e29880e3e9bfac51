"""Count what the distributed circuit costs, from the emitted operations themselves."""

from __future__ import annotations

from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass


class CountCost(AnalysisPass):
    """Set ``property_set["dqc_cost"]``, the report's ``cost`` object.

    ``ebits`` is the number of ``epr`` operations in the circuit (the contract): link-level pairs.
    ``end_to_end_ebits`` counts the pairs the protocols consume (one per telegate); each is made
    of ``hops`` link-level pairs, joined by ``entanglement_swaps`` on the relays between.
    ``classical_bits`` counts the classical messages: a measured bit that an ``if`` on another QPU
    reads (once per value of the bit, per reading QPU; the input's own mid-circuit measurements
    count like the protocols'); ``nonlocal_gates``
    and ``bursts`` come from the bursts the circuit was built from; ``telegates`` counts the
    cat-entanglers emitted (``bursts`` plus ``bursts_split``, the reopenings forced by too few comm
    qubits); ``ebits_unlimited_comm`` is what the same bursts would cost with enough comm qubits
    everywhere, so ``ebits - ebits_unlimited_comm`` is what the comm-qubit limit costs.
    ``per_link`` counts the ``epr`` operations on each link, keyed ``"a-b"`` (QPU names sorted).
    """

    def run(self, dag: DAGCircuit) -> None:
        register_of = {q: dag.find_bit(q).registers[0][0].name for q in dag.qubits}
        measured_on, sent = {}, set()
        ebits, per_link = 0, {}
        for node in dag.topological_op_nodes():
            if node.name == "epr":
                ebits += 1
                link = "-".join(sorted(register_of[q] for q in node.qargs))
                per_link[link] = per_link.get(link, 0) + 1
            elif node.name == "measure":
                written = measured_on.get(node.cargs[0], (None, -1))[1] + 1
                measured_on[node.cargs[0]] = (register_of[node.qargs[0]], written)
            elif node.name == "if_else":
                here = register_of[node.qargs[0]]
                for bit in node.cargs:
                    source, written = measured_on.get(bit, (here, 0))
                    if source != here:  # one message per value of the bit and QPU that reads it
                        sent.add((bit, written, here))
        bursts = self.property_set["dqc_bursts"] or []
        protocols = self.property_set["dqc_protocols"] or {}
        self.property_set["dqc_cost"] = {
            "ebits": ebits,
            "classical_bits": len(sent),
            "nonlocal_gates": len({node for b in bursts for node in b.nodes}),
            "telegates": protocols.get("opened", len(bursts)),
            "teledata": 0,
            "bursts": len(bursts),
            "bursts_split": protocols.get("split", 0),
            "end_to_end_ebits": protocols.get("opened", len(bursts)),
            "entanglement_swaps": protocols.get("swaps", 0),
            "ebits_unlimited_comm": protocols.get("ebits_unlimited_comm", ebits),
            "per_link": dict(sorted(per_link.items())),
        }
