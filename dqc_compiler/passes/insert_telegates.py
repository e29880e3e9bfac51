"""Build the distributed circuit: one register per QPU, telegates for every burst."""

from __future__ import annotations

from qiskit.circuit import ClassicalRegister, QuantumRegister
from qiskit.circuit.library import Measure
from qiskit.dagcircuit import DAGCircuit, DAGOpNode
from qiskit.transpiler.basepasses import TransformationPass
from qiskit.transpiler.exceptions import TranspilerError

from ..errors import DQCError
from ..gates import controlled_on, is_diagonal
from ..network import Network
from ..protocols import cat_disentangle, cat_entangle
from .bursts import Burst


class InsertTelegates(TransformationPass):
    """Rewrite the circuit over the network's registers, implementing every burst with a telegate.

    Register of QPU ``j`` (named after it): its data qubits — the input qubits the partition put
    there, in input order — then its comm qubits. Input classical registers are kept; each QPU gets
    a classical register ``<qpu>_m`` for the protocol measurements it makes.

    The input is walked in topological order. A burst starts (``epr`` + cat-entangler) at its first
    gate and ends (cat-disentangler) after its last; while it is open, its gates act on the remote
    copy. Anything else that touches the shared qubit meanwhile must keep the copy valid (diagonal
    one-qubit gates, gates controlled on it); otherwise the pass raises — a wrong circuit is never
    emitted. Final measurements come back last, on each qubit's final position.

    Sets ``property_set["dqc_layout"]`` to ``{"initial": [(qpu, slot)], "final": [(qpu, slot)]}`` and
    the same, with QPU names, as ``metadata["dqc_layout"]`` of the output (it travels in QPY files
    and, as a comment, in OpenQASM 3 files, so ``dqc verify`` needs no report).
    """

    def __init__(self, network: Network):
        super().__init__()
        self.network = network

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        parts = self.property_set["dqc_partition"]
        bursts: list[Burst] = self.property_set["dqc_bursts"]
        qpus = self.network.qpus
        n = dag.num_qubits()

        slots, counts = [], [0] * len(qpus)
        for q in range(n):
            slots.append((parts[q], counts[parts[q]]))
            counts[parts[q]] += 1
        needs_comm = {b.home for b in bursts} | {b.remote for b in bursts}
        for j in sorted(needs_comm):
            if qpus[j].comm_qubits == 0:
                raise DQCError(f"QPU '{qpus[j].name}' has no comm qubits but the partition needs it to communicate")
        for b in bursts:
            if self.network.link(b.home, b.remote) is None:
                raise DQCError(
                    f"QPUs '{qpus[b.home].name}' and '{qpus[b.remote].name}' must share an ebit but are not linked "
                    "(entanglement routing over several links is not implemented yet)"
                )

        out = DAGCircuit()
        out.name = dag.name
        out.metadata = dict(dag.metadata or {})
        out.global_phase = dag.global_phase
        registers = []
        for j, qpu in enumerate(qpus):
            register = QuantumRegister(counts[j] + qpu.comm_qubits, qpu.name)
            registers.append(register)
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
        bits_needed = [0] * len(qpus)
        for b in bursts:
            bits_needed[b.home] += 1
            bits_needed[b.remote] += 1
        protocol_bits = []
        for j, qpu in enumerate(qpus):
            name = f"{qpu.name}_m"
            while name in taken:
                name += "_"
            register = ClassicalRegister(bits_needed[j], name)
            protocol_bits.append(iter(register))
            if bits_needed[j]:
                out.add_creg(register)

        data = [registers[j][s] for j, s in slots]
        free_comm = [list(registers[j][counts[j]:]) for j in range(len(qpus))]
        burst_of: dict[int, Burst] = {node_id: b for b in bursts for node_id in b.nodes}
        open_copies: dict[int, dict[int, object]] = {}  # input qubit -> {id(burst): remote comm qubit}

        def take_comm(j: int):
            if not free_comm[j]:
                raise TranspilerError(f"QPU '{qpus[j].name}' ran out of comm qubits")
            return free_comm[j].pop(0)

        for node in dag.topological_op_nodes():
            indices = [dag.find_bit(q).index for q in node.qargs]
            burst = burst_of.get(node._node_id)
            if burst is None:
                if len({parts[i] for i in indices}) > 1:
                    raise TranspilerError(f"nonlocal gate '{node.op.name}' on {indices} belongs to no burst")
                for position, i in enumerate(indices):
                    if i in open_copies and not _keeps_copy(node, position):
                        raise TranspilerError(
                            f"'{node.op.name}' on qubit {i} breaks an open cat-entangled copy of it"
                        )
                out.apply_operation_back(node.op, tuple(data[i] for i in indices))
                continue
            copies = open_copies.setdefault(burst.qubit, {})
            if id(burst) not in copies:
                remote_comm = take_comm(burst.remote)
                home_comm = take_comm(burst.home)
                cat_entangle(out, data[burst.qubit], home_comm, remote_comm, next(protocol_bits[burst.home]))
                free_comm[burst.home].insert(0, home_comm)
                copies[id(burst)] = remote_comm
            remote_comm = copies[id(burst)]
            qargs = tuple(remote_comm if i == burst.qubit else data[i] for i in indices)
            out.apply_operation_back(node.op, qargs)
            if burst.nodes[-1] == node._node_id:
                cat_disentangle(out, data[burst.qubit], remote_comm, next(protocol_bits[burst.remote]))
                free_comm[burst.remote].insert(0, remote_comm)
                del copies[id(burst)]
                if not copies:
                    del open_copies[burst.qubit]

        if open_copies:  # pragma: no cover - every burst ends at its last node
            raise TranspilerError("bursts left open at the end of the circuit")
        for qubit, clbit in self.property_set["dqc_final_measurements"] or []:
            out.apply_operation_back(Measure(), (data[qubit],), (clbit,))
        self.property_set["dqc_layout"] = {"initial": list(slots), "final": list(slots)}
        named = [{"qpu": qpus[j].name, "index": s} for j, s in slots]
        out.metadata["dqc_layout"] = {"initial": named, "final": list(named)}
        return out


def _keeps_copy(node: DAGOpNode, position: int) -> bool:
    """Whether ``node`` acting on the shared qubit at ``position`` leaves its Z-basis copy valid."""
    if node.op.num_qubits == 1:
        return is_diagonal(node.op)
    return controlled_on(node.op, position)
