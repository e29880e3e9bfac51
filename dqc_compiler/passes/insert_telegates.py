"""Build the distributed circuit: one register per QPU, telegates for every burst."""

from __future__ import annotations

from qiskit.circuit import ClassicalRegister
from qiskit.circuit.library import Measure
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import TransformationPass

from ..errors import DQCError
from ..network import Network
from ..planner import plan
from ..segments import Burst, CircuitModel


class InsertTelegates(TransformationPass):
    """Rewrite the circuit over the network's registers, implementing every burst with a telegate.

    Register of QPU ``j`` (named after it): its data qubits — the input qubits the partition put
    there, in input order — then its comm qubits. Input classical registers are kept; each QPU gets
    a classical register ``<qpu>_m`` for the protocol measurements it makes.

    The walk itself is :func:`dqc_compiler.planner.plan` (the same function the partitioner and
    :class:`~dqc_compiler.passes.GroupBursts` dry-run); this pass runs it once more recording the
    operations. (To do, issue 12: hand the chosen plan over from ``GroupBursts`` instead of walking
    the same bursts again; the walk is deterministic, so the result is the same.) The input is walked in a topological order
    (up to gates that commute on a wire) that runs every gate open copies can serve before it opens a new one. A burst opens (``epr`` + cat-entangler, in its basis) at its first gate and closes
    (cat-disentangler) after its last; meanwhile its gates act on the remote copy, and a gate that
    flips the shared qubit (anti-diagonal in the copy's basis) is mirrored on the copy. A burst whose
    QPUs have no free comm qubit waits while other gates can run; when nothing else can, the QPU
    closes the open copy it needs last and reopens it when it is next used (one more ebit): the count in the output is always what it really costs. Anything else that would touch
    the shared qubit while a copy is open makes the pass raise — a wrong circuit is never emitted.
    Final measurements come back last, on each qubit's final position.

    Sets ``property_set["dqc_layout"]`` to ``{"initial": [(qpu, slot)], "final": [(qpu, slot)]}`` and
    the same, with QPU names, as ``metadata["dqc_layout"]`` of the output (it travels in QPY files
    and, as a comment, in OpenQASM 3 files, so ``dqc verify`` needs no report). When final swaps
    were absorbed (``property_set["dqc_output_permutation"]``), ``final`` follows them.

    Complexity: one recording walk of :func:`~dqc_compiler.planner.plan`, O(g log g) for g gates
    (a second when the first reopens copies, and a dry one when comm qubits split bursts), and
    O(g') to build the output of g' operations.
    """

    def __init__(self, network: Network):
        super().__init__()
        self.network = network

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        parts = self.property_set["dqc_partition"]
        bursts: list[Burst] = self.property_set["dqc_bursts"]
        qpus = self.network.qpus
        n = dag.num_qubits()

        model = CircuitModel.of(self.property_set, dag)
        walk = plan(dag, bursts, parts, self.network, dry=False, model=model)
        slots, registers, data = walk.slots, walk.registers, walk.data

        out = DAGCircuit()
        out.name = dag.name
        out.metadata = dict(dag.metadata or {})
        out.global_phase = dag.global_phase
        for register in registers:
            if register.size:
                out.add_qreg(register)
        taken = {r.name for r in registers} | set(dag.cregs)
        for clbit in dag.clbits:
            if not dag.find_bit(clbit).registers:
                out.add_clbits([clbit])
        for creg in dag.cregs.values():
            if creg.name in {q.name for q in qpus}:
                raise DQCError(f"classical register '{creg.name}' has the name of a QPU; rename one of them")
            out.add_creg(creg)
        for j, qpu in enumerate(qpus):
            if walk.bits[j]:
                name = f"{qpu.name}_m"
                while name in taken:
                    name += "_"
                out.add_creg(ClassicalRegister(name=name, bits=walk.bits[j]))
        for op, qargs, cargs in walk.recorder.operations:
            out.apply_operation_back(op, qargs, cargs, check=False)

        permutation = self.property_set["dqc_output_permutation"] or list(range(n))
        final_slots = [slots[permutation[q]] for q in range(n)]
        for qubit, clbit in self.property_set["dqc_final_measurements"] or []:
            out.apply_operation_back(Measure(), (data[permutation[qubit]],), (clbit,))
        self.property_set["dqc_layout"] = {"initial": list(slots), "final": final_slots}
        if walk.split or not self.network.is_uniform():
            roomy = self.network.with_comm_qubits(len(bursts) + 2)
            unlimited = plan(dag, bursts, parts, roomy, dry=True, model=model).ebits
        else:  # nothing was reopened and every route is one link: more comm qubits change nothing
            unlimited = walk.ebits
        self.property_set["dqc_protocols"] = {
            "opened": walk.opened, "split": walk.split, "ebits": walk.ebits, "swaps": walk.swaps,
            "ebits_unlimited_comm": unlimited,
        }
        named = [{"qpu": qpus[j].name, "index": s} for j, s in slots]
        named_final = [{"qpu": qpus[j].name, "index": s} for j, s in final_slots]
        out.metadata["dqc_layout"] = {"initial": named, "final": named_final}
        return out
