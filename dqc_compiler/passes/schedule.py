"""Time the distributed circuit: communication rounds and makespan under the network's timings."""

from __future__ import annotations

from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass

from ..network import DEFAULT_CLASSICAL_TIME, DEFAULT_EBIT_TIME, Network


class ScheduleCommunication(AnalysisPass):
    """Set ``property_set["dqc_schedule"]`` for a distributed circuit (the output of
    :class:`~dqc_compiler.passes.InsertTelegates`).

    As-soon-as-possible times in circuit order: a gate starts when its qubits are free; ``epr``
    takes its link's ``ebit_time``; a measurement takes the QPU's ``measure_time``; an ``if`` waits
    for its bit, plus the link's ``classical_time`` when the bit was measured on another QPU; every
    other local operation takes the QPU's ``gate_time``. ``comm_rounds`` is the length of the
    longest dependency chain counted in ``epr`` operations: the fewest rounds of entanglement
    generation that run one after another.
    """

    def __init__(self, network: Network):
        super().__init__()
        self.network = network

    def run(self, dag: DAGCircuit) -> None:
        qpu_of = {q: self.network.index(dag.find_bit(q).registers[0][0].name) for q in dag.qubits}
        ready: dict = {}  # qubit or clbit -> time it is free / known
        rounds: dict = {}  # wire -> epr operations on the longest chain ending here
        measured_on: dict = {}
        makespan = 0.0
        for node in dag.topological_op_nodes():
            qpus = {qpu_of[q] for q in node.qargs}
            start = max((ready.get(q, 0.0) for q in node.qargs), default=0.0)
            wires = list(node.qargs) + list(node.cargs)
            chain = max((rounds.get(w, 0) for w in wires), default=0)
            name = node.name
            if name == "epr":
                a, b = sorted(qpus)
                link = self.network.link(a, b)
                duration = link.ebit_time if link else DEFAULT_EBIT_TIME
                chain += 1
            elif name == "measure":
                duration = self.network.qpus[qpu_of[node.qargs[0]]].measure_time
            else:
                duration = max(self.network.qpus[j].gate_time for j in qpus) if qpus else 0.0
                if name == "barrier":
                    duration = 0.0
            for bit in node.cargs:
                if name == "measure":
                    continue
                known = ready.get(bit, 0.0)
                source = measured_on.get(bit)
                here = qpu_of[node.qargs[0]]
                if source is not None and source != here:
                    link = self.network.link(source, here)
                    known += link.classical_time if link else DEFAULT_CLASSICAL_TIME
                start = max(start, known)
            end = start + duration
            for q in node.qargs:
                ready[q] = end
            if name == "measure":
                ready[node.cargs[0]] = end
                measured_on[node.cargs[0]] = qpu_of[node.qargs[0]]
            for w in wires:
                rounds[w] = chain
            makespan = max(makespan, end)
        self.property_set["dqc_schedule"] = {
            "comm_rounds": max(rounds.values(), default=0),
            "makespan": makespan,
        }
