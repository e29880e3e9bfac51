"""Schedule the distributed circuit: a list scheduler under the network's resources and timings."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from qiskit.circuit import QuantumCircuit
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass

from ..network import DEFAULT_EBIT_TIME, Network


@dataclass
class Slot:
    """One scheduled operation: ``qpus`` it runs on (two for an ``epr``), ``start`` and ``end``;
    ``source`` is the QPU that measured the bit an ``if`` waits for, when that is another QPU."""

    op: object
    qargs: tuple
    cargs: tuple
    qpus: tuple[int, ...]
    start: float
    end: float
    source: int | None = None

    @property
    def name(self) -> str:
        return self.op.name


class ScheduleCommunication(AnalysisPass):
    """Set ``property_set["dqc_schedule"]`` (the report's ``schedule``) and ``["dqc_timeline"]``
    (a :class:`Slot` per operation, in the order they start) for a distributed circuit.

    A list scheduler: among the operations whose predecessors are done, the one that can start
    earliest goes first (ties: the longest remaining path to the end, then circuit order). An
    operation waits for its qubits; an ``epr`` also for its link, which makes one ebit at a time
    and takes the link's ``ebit_time / success_probability`` (the expected time to herald one);
    an ``if`` waits for its bit, plus the classical latency when another QPU measured it (the
    fastest path of classical channels). A measurement takes the QPU's ``measure_time``, every
    other local operation its ``gate_time``, a barrier nothing.

    Reported: ``comm_rounds`` (the longest dependency chain counted in ``epr`` operations: the
    fewest rounds of entanglement generation that must run one after another), ``makespan``,
    ``peak_comm_qubits`` (per QPU: most comm qubits holding entanglement at once, from an ``epr``
    to the ``reset`` that frees it) and ``data_wait`` (total time data qubits sit idle because
    an operation on them waits for a comm qubit, an ebit or a message: their exposure to
    decoherence caused by communication; ``data_wait_max`` is the worst single qubit).

    Complexity: O(g' log g') for the g' operations of the distributed circuit (a heap of ready
    operations; each edge of the DAG is visited once).
    """

    def __init__(self, network: Network):
        super().__init__()
        self.network = network

    def run(self, dag: DAGCircuit) -> None:
        net = self.network
        qpu_of = {q: net.index(dag.find_bit(q).registers[0][0].name) for q in dag.qubits}
        data_counts = [0] * net.num_qpus
        for j, _slot in (self.property_set["dqc_layout"] or {}).get("initial", []):
            data_counts[j] += 1
        comm_positions = self.property_set["dqc_comm_positions"]  # set by RouteWithinQPUs (devices)
        if comm_positions is not None:
            is_comm = {q: (qpu_of[q], dag.find_bit(q).registers[0][1]) in comm_positions for q in dag.qubits}
        else:
            is_comm = {q: dag.find_bit(q).registers[0][1] >= data_counts[qpu_of[q]] for q in dag.qubits}

        nodes = list(dag.topological_op_nodes())
        # Keyed by node id: hashing a DAGOpNode may compare operations, and an ``if``'s body circuits
        # are compared by converting them to DAGs (most of this pass's time on large outputs).
        position = {node._node_id: i for i, node in enumerate(nodes)}
        successors = {node._node_id: list(dag.op_successors(node)) for node in nodes}
        indegree = {node._node_id: sum(1 for _ in dag.op_predecessors(node)) for node in nodes}

        def duration(node) -> float:
            qpus = sorted({qpu_of[q] for q in node.qargs})
            if node.name == "epr":
                link = net.link(qpus[0], qpus[1])
                return link.expected_ebit_time if link else DEFAULT_EBIT_TIME
            if node.name == "barrier" or not qpus:
                return 0.0
            if node.name == "measure":
                qpu = net.qpus[qpus[0]]
                return qpu.device.duration("measure", qpu.measure_time) if qpu.device else qpu.measure_time
            return max(_gate_time(net.qpus[j], node) for j in qpus)

        durations = {node._node_id: duration(node) for node in nodes}
        tail = {}
        for node in reversed(nodes):
            key = node._node_id
            tail[key] = durations[key] + max((tail[s._node_id] for s in successors[key]), default=0.0)

        ready: dict = {}  # qubit -> free from; clbit -> (time measured, QPU that measured it)
        read_at: dict = {}  # clbit -> latest start of an operation that read it
        link_free: dict = {}
        rounds: dict = {}

        def earliest(node) -> tuple[float, float, int | None]:
            """Start time, the time its data qubits are free, and the QPU of a remote bit it reads."""
            free = max((ready.get(q, 0.0) for q in node.qargs), default=0.0)
            data_free = max((ready.get(q, 0.0) for q in node.qargs if not is_comm[q]), default=free)
            start, source = free, None
            if node.name == "epr":
                start = max(start, link_free.get(frozenset(qpu_of[q] for q in node.qargs), 0.0))
            elif node.name == "measure":  # after what reads or wrote the bit before (mid-circuit measurement)
                bit = node.cargs[0]
                start = max(start, read_at.get(bit, 0.0), ready.get(bit, (0.0, None))[0])
            else:
                here = qpu_of[node.qargs[0]] if node.qargs else None
                for bit in node.cargs:
                    known, measured_on = ready.get(bit, (0.0, here))
                    if measured_on != here and here is not None:
                        known += net.classical_latency(measured_on, here)
                        source = measured_on
                    start = max(start, known)
            return start, data_free, source

        def _entry(start: float, node) -> tuple:
            """A heap entry: earliest start, then the longest remaining path, then circuit order."""
            return (start, -tail[node._node_id], position[node._node_id], node)

        heap = []
        for node in nodes:
            if not indegree[node._node_id]:
                heapq.heappush(heap, _entry(earliest(node)[0], node))
        timeline: list[Slot] = []
        peak_rounds, makespan, wait_of = 0, 0.0, {}
        while heap:
            key, _, _, node = heapq.heappop(heap)
            start, data_free, source = earliest(node)
            if start > key:  # a link it needs was taken since it was queued
                heapq.heappush(heap, _entry(start, node))
                continue
            end = start + durations[node._node_id]
            for q in node.qargs:
                if not is_comm[q] and start > ready.get(q, 0.0) and start > data_free:
                    wait_of[q] = wait_of.get(q, 0.0) + start - max(ready.get(q, 0.0), data_free)
                ready[q] = end
            if node.name == "measure":
                ready[node.cargs[0]] = (end, qpu_of[node.qargs[0]])
            else:
                for bit in node.cargs:
                    read_at[bit] = max(read_at.get(bit, 0.0), start)
            if node.name == "epr":
                link_free[frozenset(qpu_of[q] for q in node.qargs)] = end
            wires = list(node.qargs) + list(node.cargs)
            chain = max((rounds.get(w, 0) for w in wires), default=0) + (node.name == "epr")
            for w in wires:
                rounds[w] = chain
            peak_rounds = max(peak_rounds, chain)
            makespan = max(makespan, end)
            qpus = tuple(sorted({qpu_of[q] for q in node.qargs}))
            timeline.append(Slot(node.op, tuple(node.qargs), tuple(node.cargs), qpus, start, end, source))
            for succ in successors[node._node_id]:
                indegree[succ._node_id] -= 1
                if not indegree[succ._node_id]:
                    heapq.heappush(heap, _entry(earliest(succ)[0], succ))
        timeline.sort(key=lambda s: s.start)  # stable: ties keep the order they were scheduled in
        self.property_set["dqc_timeline"] = timeline
        self.property_set["dqc_schedule"] = {
            "comm_rounds": peak_rounds,
            "makespan": makespan,
            "peak_comm_qubits": _peak_comm(timeline, is_comm, qpu_of, net),
            "data_wait": round(sum(wait_of.values()), 6),
            "data_wait_max": round(max(wait_of.values(), default=0.0), 6),
        }


def _gate_time(qpu, node) -> float:
    """A local operation's time: the device's duration of the gate when it gives one (an ``if``:
    its body's), else the QPU's ``gate_time``."""
    if qpu.device is None:
        return qpu.gate_time
    if node.name == "if_else":
        return sum(qpu.device.duration(i.operation.name, qpu.gate_time) for i in node.op.blocks[0].data)
    return qpu.device.duration(node.name, qpu.gate_time)


def _peak_comm(timeline: list[Slot], is_comm: dict, qpu_of: dict, network: Network) -> dict[str, int]:
    """Per QPU name: most comm qubits holding entanglement at once (``epr`` start to ``reset`` end)."""
    events = []
    held: dict = {}
    for slot in timeline:
        for q in slot.qargs:
            if not is_comm[q]:
                continue
            if slot.name == "epr" and q not in held:
                held[q] = slot.start
            elif slot.name == "reset" and q in held:
                events += [(held.pop(q), 1, qpu_of[q]), (slot.end, -1, qpu_of[q])]
    peak = [0] * network.num_qpus
    level = [0] * network.num_qpus
    for _time, step, qpu in sorted(events):  # at equal times releases (-1) come first
        level[qpu] += step
        peak[qpu] = max(peak[qpu], level[qpu])
    return {q.name: peak[j] for j, q in enumerate(network.qpus)}


def in_schedule_order(circuit: QuantumCircuit, timeline: list[Slot]) -> QuantumCircuit:
    """``circuit`` (the pipeline's output) with its operations in the order they start."""
    ordered = circuit.copy_empty_like()
    for slot in timeline:
        ordered.append(slot.op, slot.qargs, slot.cargs, copy=False)
    return ordered
