"""Reorder commuting gates so that fewer operations break the copies bursts are built on."""

from __future__ import annotations

import heapq
import logging

from qiskit.circuit.commutation_library import SessionCommutationChecker
from qiskit.dagcircuit import DAGCircuit, DAGOpNode
from qiskit.transpiler.basepasses import TransformationPass

from ..segments import MODEL_KEY, CircuitModel, copy_count, role_of

logger = logging.getLogger(__name__)

#: How far ahead on a wire a gate may be pulled forward (gates, per wire).
LOOKAHEAD = 24


class CommuteForBursts(TransformationPass):
    """Delay segment-breaking gates past the gates that commute with them (the AutoComm idea).

    A gate may move to the front of what is left of the circuit when it commutes — by qiskit's
    :data:`SessionCommutationChecker` — with every gate still ahead of it on each of its qubits;
    any order built that way computes the same unitary. Among the gates that may go next, those
    that keep the current basis of all their qubits go first, so that a ``h`` (or a ``cx`` target)
    waits until everything diagonal that can pass it has. The reordered circuit replaces the input
    only when the burst model (:mod:`dqc_compiler.segments`) gives the partition in
    ``dqc_partition`` fewer copies with it.
    """

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        parts = self.property_set["dqc_partition"]
        reordered = reorder(dag)
        candidate = CircuitModel(reordered)
        before = copy_count(CircuitModel.of(self.property_set, dag).bursts(), parts)
        after = copy_count(candidate.bursts(), parts)
        logger.info("commutation: %d copies before, %d after reordering", before, after)
        self.property_set["dqc_commutation"] = {"copies_before": before, "copies_after": min(before, after)}
        if after < before:
            self.property_set[MODEL_KEY] = candidate
            return reordered
        return dag


def reorder(dag: DAGCircuit) -> DAGCircuit:
    """A commutation-equivalent order of ``dag`` that keeps each qubit in one basis as long as it can."""
    wires = {q: list(dag.nodes_on_wire(q, only_ops=True)) for q in dag.qubits}
    for clbit in dag.clbits:  # classical wires keep their order strictly
        wires[clbit] = list(dag.nodes_on_wire(clbit, only_ops=True))
    classical = set(dag.clbits)
    order = {node._node_id: i for i, node in enumerate(dag.topological_op_nodes())}
    head = {w: 0 for w in wires}  # index of the first not-yet-emitted gate per wire
    emitted: set[int] = set()
    mode: dict = {}
    commutes: dict[tuple[int, int], bool] = {}
    roles: dict = {}  # role_of's memo for this DAG

    def commute(a: DAGOpNode, b: DAGOpNode) -> bool:
        key = (a._node_id, b._node_id)
        found = commutes.get(key)
        if found is None:
            found = commutes[key] = SessionCommutationChecker.commute_nodes(a, b)
        return found

    def movable(node: DAGOpNode) -> bool:
        for wire in list(node.qargs) + list(node.cargs):
            ops = wires[wire]
            i = head[wire]
            steps = 0
            while ops[i]._node_id != node._node_id:
                if ops[i]._node_id not in emitted:
                    if wire in classical or not commute(ops[i], node):
                        return False
                    steps += 1
                    if steps > LOOKAHEAD:
                        return False
                i += 1
        return True

    def breaks(node: DAGOpNode) -> int:
        count = 0
        for position, qubit in enumerate(node.qargs):
            basis = mode.get(qubit)
            if basis is not None and role_of(node, position, memo=roles).of(basis) == "break":
                count += 1
        return count

    def candidates(wire_list) -> list[DAGOpNode]:
        found = []
        for wire in wire_list:
            ops = wires[wire]
            i, seen = head[wire], 0
            while i < len(ops) and seen <= LOOKAHEAD:
                if ops[i]._node_id not in emitted:
                    found.append(ops[i])
                    seen += 1
                i += 1
        return found

    out = dag.copy_empty_like()
    heap: list = []
    queued: set[int] = set()

    def offer(nodes) -> None:
        for node in nodes:
            if node._node_id not in emitted and node._node_id not in queued and movable(node):
                heapq.heappush(heap, (breaks(node), order[node._node_id], node._node_id))
                queued.add(node._node_id)

    offer(candidates(wires))
    total = len(order)
    while len(emitted) < total:
        while True:
            key, position, node_id = heapq.heappop(heap)
            node = dag.node(node_id)
            queued.discard(node_id)
            if node_id in emitted:
                continue
            if not movable(node):
                continue
            fresh = breaks(node)
            if fresh != key:
                heapq.heappush(heap, (fresh, position, node_id))
                queued.add(node_id)
                continue
            break
        out.apply_operation_back(node.op, node.qargs, node.cargs, check=False)
        emitted.add(node_id)
        for p, qubit in enumerate(node.qargs):
            role = role_of(node, p, memo=roles)
            if mode.get(qubit) is None or role.of(mode[qubit]) == "break":
                mode[qubit] = "Z" if role.z != "break" else "X" if role.x != "break" else None
        touched = list(node.qargs) + list(node.cargs)
        for wire in touched:
            ops = wires[wire]
            while head[wire] < len(ops) and ops[head[wire]]._node_id in emitted:
                head[wire] += 1
        offer(candidates(touched))
        # gates on other wires whose mode changed may have become preferable: refresh lazily (above)
    return out
