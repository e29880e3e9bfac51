"""Place and route each device QPU's part of the distributed circuit, then write it in native gates."""

from __future__ import annotations

import logging

from qiskit.circuit import ClassicalRegister, Instruction, QuantumCircuit, QuantumRegister
from qiskit.circuit.equivalence_library import SessionEquivalenceLibrary
from qiskit.circuit.library import SwapGate
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler import Layout, PassManager
from qiskit.transpiler.basepasses import TransformationPass
from qiskit.transpiler.passes import (
    ApplyLayout,
    BasisTranslator,
    CommutativeCancellation,
    ConsolidateBlocks,
    HighLevelSynthesis,
    Optimize1qGatesDecomposition,
    SabreLayout,
    SabreSwap,
    SetLayout,
    Unroll3qOrMore,
    UnitarySynthesis,
)

from ..devices import Device, comm_positions
from ..errors import DQCError
from ..gates import EPRGate
from ..network import Network

logger = logging.getLogger(__name__)

#: Name of the stand-in operations routing sees for what it must not look into (``epr`` ends,
#: ``if`` blocks, operations on bits another QPU reads): qiskit's routers treat them as opaque.
STAND_IN = "dqc_stand_in"
_KEEP = ("measure", "reset", "barrier", STAND_IN)


class _StandIn(Instruction):
    """An opaque operation carrying the original it stands for (``original``), its place in the
    whole circuit (``tag``) and whether other QPUs depend on it (``external``)."""

    def __init__(self, num_qubits: int, num_clbits: int, tag, original, external: bool):
        super().__init__(STAND_IN, num_qubits, num_clbits, [])
        self.tag, self.original, self.external = tag, original, external


class RouteWithinQPUs(TransformationPass):
    """Give every QPU with a :class:`~dqc_compiler.devices.Device` its physical qubits, route its
    part and write it in the device's native gates.

    For each device QPU, its operations (in the distributed circuit's order) become one local
    circuit over the device's physical qubits. Operations other QPUs depend on (an ``epr`` end,
    an operation on a bit another QPU reads or writes) become opaque stand-ins on one extra
    classical wire, which keeps them in the whole circuit's order whatever the router reorders
    (so the parts merge back without a cycle). Comm qubits start on their ``comm_physical``
    qubits; data qubits are placed greedily near the qubits they interact with (the comm qubits
    first). qiskit's :class:`~qiskit.transpiler.passes.SabreSwap` routes the part on the
    device's coupling map; before every ``epr`` end a comm qubit that routing moved away is
    swapped back along a shortest path (an ``epr`` is tied to its physical comm qubit), and at the
    end no data qubit is left on a comm qubit. The part is then translated to the device's basis
    (``HighLevelSynthesis``, ``BasisTranslator``, ``Optimize1qGatesDecomposition``), ``if``
    bodies included, and the parts are merged in the whole circuit's order.

    Updates ``dqc_layout`` (initial and final physical positions: local SWAPs permute the data
    qubits, and ``final`` says where each input qubit ends) and sets ``dqc_local`` (per QPU:
    SWAPs, local two-qubit gates, depth) and ``dqc_comm_positions`` (``{(qpu index, register
    index)}`` of every comm qubit, for the scheduler). A network without devices passes through
    unchanged.
    """

    def __init__(self, network: Network, seed: int | None = None):
        super().__init__()
        self.network = network
        self.seed = 0 if seed is None else seed

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        net = self.network
        if not net.has_devices:
            return dag
        index = {q.name: j for j, q in enumerate(net.qpus)}
        layout = self.property_set["dqc_layout"]
        counts = [0] * net.num_qpus
        for j, _slot in layout["initial"]:
            counts[j] += 1
        owner = {}
        for q in dag.qubits:
            register, slot = dag.find_bit(q).registers[0]
            owner[q] = (index[register.name], slot)
        sizes = {index[r.name]: r.size for r in dag.qregs.values()}

        # which bits several QPUs touch: operations on them keep the whole circuit's order
        touched: dict = {}
        nodes = [n for n in dag.topological_op_nodes() if n.name != "barrier"]
        for node in nodes:
            for bit in node.cargs:
                touched.setdefault(bit, set()).update(owner[q][0] for q in node.qargs)
        shared = {bit for bit, qpus in touched.items() if len(qpus) > 1}

        parts = {j: _Part(net.qpus[j].device, j, sizes.get(j, 0), counts[j], dag.clbits)
                 for j, qpu in enumerate(net.qpus) if qpu.device is not None and sizes.get(j, 0)}
        streams = {j: [] for j in sizes if j not in parts}  # untouched QPUs: (tag, op, qargs, cargs)
        externals = []  # tags in the whole circuit's order
        for gid, node in enumerate(nodes):
            qpus = sorted({owner[q][0] for q in node.qargs})
            if node.name == "epr":
                externals.append(gid)
                for end, q in enumerate(node.qargs):
                    j = owner[q][0]
                    if j in parts:
                        parts[j].stand_in(_StandIn(1, 1, (gid, end), None, True), [owner[q][1]], [], chain=True)
                    else:
                        streams[j].append(((gid, end), None, (q,), ()))
                continue
            if len(qpus) != 1:
                raise DQCError(f"operation '{node.name}' spans QPUs {qpus}: only epr may")
            j = qpus[0]
            external = any(bit in shared for bit in node.cargs)
            if external:
                externals.append(gid)
            if j not in parts:
                streams[j].append((gid if external else None, node.op, tuple(node.qargs), tuple(node.cargs)))
                continue
            slots = [owner[q][1] for q in node.qargs]
            if external or node.name == "if_else":
                parts[j].stand_in(_StandIn(len(slots), len(node.cargs) + external, gid, node.op, external),
                                  slots, list(node.cargs), chain=external)
            else:
                parts[j].append(node.op, slots, list(node.cargs))

        local = {}
        for j, part in parts.items():
            part.route(self.seed)
            streams[j] = part.native_stream()
            local[net.qpus[j].name] = part.stats()

        out = DAGCircuit()
        out.name, out.metadata, out.global_phase = dag.name, dict(dag.metadata or {}), dag.global_phase
        registers = {}
        for register in dag.qregs.values():
            j = index[register.name]
            new = QuantumRegister(parts[j].device.num_qubits, register.name) if j in parts else register
            registers[j] = new
            out.add_qreg(new)
        for clbit in dag.clbits:
            if not dag.find_bit(clbit).registers:
                out.add_clbits([clbit])
        for creg in dag.cregs.values():
            out.add_creg(creg)

        def physical(j, q):
            return registers[j][q] if j in parts else q

        pointer = {j: 0 for j in streams}

        def drain(j, until=None):
            """Emit QPU ``j``'s operations up to the external ``until`` (the rest when None)."""
            stream = streams[j]
            while pointer[j] < len(stream):
                tag, op, qargs, cargs = stream[pointer[j]]
                if until is not None and tag is not None and _gid(tag) in pending:
                    if _gid(tag) != until:
                        raise DQCError(f"routing QPU {net.qpus[j].name} broke the order of its communication")
                    return stream[pointer[j]]
                pointer[j] += 1
                out.apply_operation_back(op, tuple(physical(j, q) for q in qargs), cargs, check=False)
            if until is not None:
                raise DQCError(f"routing QPU {net.qpus[j].name} lost an operation")

        pending = set(externals)
        for gid in externals:
            node = nodes[gid]
            qpus = [owner[q][0] for q in node.qargs] if node.name == "epr" else [owner[node.qargs[0]][0]]
            found = [drain(j, gid) for j in dict.fromkeys(qpus)]
            for j in dict.fromkeys(qpus):
                pointer[j] += 1
            pending.discard(gid)
            if node.name == "epr":
                if qpus[0] == qpus[1]:
                    raise DQCError("an epr joins two qubits of one QPU")
                ends = {item[0][1]: physical(j, item[2][0]) for j, item in zip(qpus, found)}
                out.apply_operation_back(EPRGate(), (ends[0], ends[1]), (), check=False)
            else:
                _tag, op, qargs, cargs = found[0]
                out.apply_operation_back(op, tuple(physical(qpus[0], q) for q in qargs), cargs, check=False)
        for j in streams:
            drain(j)

        # the layout, in physical positions
        def moved(entries, when):
            result = []
            for j, slot in entries:
                result.append((j, parts[j].position(slot, when)) if j in parts else (j, slot))
            return result

        new_layout = {"initial": moved(layout["initial"], "initial"), "final": moved(layout["final"], "final")}
        self.property_set["dqc_layout"] = new_layout
        names = [q.name for q in net.qpus]
        out.metadata["dqc_layout"] = {key: [{"qpu": names[j], "index": s} for j, s in value]
                                      for key, value in new_layout.items()}
        out.metadata["dqc_layout"]["routed"] = True  # the verifier: local SWAPs move qubits, gates are native
        out.metadata["dqc_native"] = True
        self.property_set["dqc_local"] = local
        self.property_set["dqc_comm_positions"] = comm_positions(
            net, layout["initial"], {net.qpus[j].name: size for j, size in sizes.items()})
        return out


def _gid(tag) -> int:
    return tag[0] if isinstance(tag, tuple) else tag


class _Part:
    """One device QPU's operations over its physical qubits, routed and translated."""

    def __init__(self, device: Device, qpu: int, size: int, data: int, clbits):
        self.device, self.qpu, self.size, self.data = device, qpu, size, data
        n = device.num_qubits
        self.virtual = QuantumRegister(n, "v")
        self.chain = ClassicalRegister(1, "dqc_chain")
        self.circuit = QuantumCircuit(self.virtual)
        self.circuit.add_bits(list(clbits))
        self.circuit.add_register(self.chain)
        self.swaps = 0
        self.fixups = 0

    def append(self, op, slots, cargs) -> None:
        self.circuit.append(op, [self.virtual[s] for s in slots], cargs, copy=False)

    def stand_in(self, op: _StandIn, slots, cargs, chain: bool) -> None:
        self.circuit.append(op, [self.virtual[s] for s in slots], list(cargs) + ([self.chain[0]] if chain else []),
                            copy=False)

    # ------------------------------------------------------------------ placement
    def _initial_layout(self) -> list[int]:
        """Virtual qubit -> physical: comm qubits on theirs, data greedily near what they meet."""
        n, dev = self.device.num_qubits, self.device
        dist = dev.distances()
        weight: dict = {}
        for instruction in self.circuit.data:
            qs = [self.circuit.find_bit(q).index for q in instruction.qubits]
            if len(qs) == 2:
                key = tuple(sorted(qs))
                weight[key] = weight.get(key, 0) + 1
        place = {self.data + c: p for c, p in enumerate(dev.comm_physical[: self.size - self.data])}
        free = [p for p in range(n) if p not in place.values()]
        homes = list(dev.comm_physical) or [0]
        todo = list(range(self.data))

        def pull(v):
            return sum(w for (a, b), w in weight.items() if (a == v and b in place) or (b == v and a in place))

        while todo:
            v = max(todo, key=lambda u: (pull(u), -u))
            todo.remove(v)

            def cost(p, v=v):
                total = 0.0
                for (a, b), w in weight.items():
                    other = b if a == v else a if b == v else None
                    if other is not None and other in place:
                        total += w * dist[p][place[other]]
                return (total, min(dist[p][h] for h in homes), p)

            best = min(free, key=cost)
            free.remove(best)
            place[v] = best
        for v in range(n):
            if v not in place:
                place[v] = free.pop(0)
        return [place[v] for v in range(n)]

    # ------------------------------------------------------------------ routing
    def route(self, seed: int) -> None:
        """Route from the better of two placements (fewer SWAPs, comm returns included): the greedy
        one of :meth:`_initial_layout` and qiskit's ``SabreLayout`` with the comm qubits then
        exchanged onto their places."""
        circuit, finals = self._without_final_measurements()
        if any(len(i.qubits) > 2 and i.operation.name not in ("barrier", STAND_IN) for i in circuit.data):
            circuit = PassManager([Unroll3qOrMore()]).run(circuit)
        best = None
        for start in self._candidate_layouts(circuit, seed):
            for method in (self._route_from, self._route_segments):
                found = method(circuit, finals, start, seed)
                if best is None or found[0] < best[0]:
                    best = found
        _total, self.start, self.ops, self.content, self.swaps, self.fixups = best

    def _candidate_layouts(self, circuit: QuantumCircuit, seed: int) -> list[list[int]]:
        greedy = self._initial_layout()
        if not any(len(i.qubits) == 2 for i in circuit.data):
            return [greedy]
        manager = PassManager([SabreLayout(self.device.coupling_map(), seed=seed, max_iterations=4,
                                           swap_trials=4, layout_trials=8, skip_routing=True)])
        manager.run(circuit)
        found = manager.property_set["layout"]
        if found is None:
            return [greedy]
        sabre = [found[self.virtual[v]] for v in range(self.device.num_qubits)]
        for c, place in enumerate(self.device.comm_physical[: self.size - self.data]):
            v = self.data + c
            other = sabre.index(place)
            sabre[v], sabre[other] = place, sabre[v]
        return [greedy] if sabre == greedy else [greedy, sabre]

    def _route_segments(self, circuit: QuantumCircuit, finals: list, start: list[int], seed: int) -> tuple:
        """Like :meth:`_route_from`, but ``SabreSwap`` routes the stretch between two ``epr`` ends at a
        time, from where the last left the qubits. At an ``epr`` end whose comm qubit is off every
        comm position, a comm position holding a qubit known to be in |0> (an unused qubit, or a
        comm qubit reset since its last use) takes over its role for free (both are |0>: a
        relabelling); otherwise the comm qubit is swapped one way to the nearest comm position."""
        dev = self.device
        cmap = dev.coupling_map()
        n = dev.num_qubits
        dist = dev.distances()
        home = {self.data + c: p for c, p in enumerate(dev.comm_physical[: self.size - self.data])}
        comm_places = set(home.values())
        content = {p: v for v, p in enumerate(start)}  # physical -> virtual
        fresh = {v for v in range(n) if v >= self.data}  # virtuals known to be in |0>
        ops: list = []
        swaps, fixups = 0, 0
        index = {q: i for i, q in enumerate(circuit.qubits)}
        physical = QuantumRegister(n, "q")
        segment: list = []

        def flush():
            nonlocal swaps
            if not segment:
                return
            piece = QuantumCircuit(physical)
            piece.add_bits(circuit.clbits)
            where = {v: p for p, v in content.items()}
            for instruction in segment:
                piece.append(instruction.operation, [physical[where[index[q]]] for q in instruction.qubits],
                             instruction.clbits, copy=False)
            has_2q = any(len(i.qubits) == 2 for i in segment)
            routed = PassManager([SabreSwap(cmap, heuristic="decay", seed=seed, trials=8)]).run(piece) \
                if has_2q else piece
            for instruction in routed.data:
                op = instruction.operation
                qargs = tuple(routed.find_bit(q).index for q in instruction.qubits)
                if op.name == "swap":
                    swaps += 1
                    a, b = qargs
                    content[a], content[b] = content[b], content[a]
                    ops.append((None, op, qargs, ()))
                    continue
                for p in qargs:
                    if op.name == "reset":
                        fresh.add(content[p])
                    else:
                        fresh.discard(content[p])
                cargs = tuple(c for c in instruction.clbits if c != self.chain[0])
                ops.append((op.tag if op.name == STAND_IN else None, op, qargs, cargs))
            segment.clear()

        for instruction in circuit.data:
            op = instruction.operation
            if not (op.name == STAND_IN and op.original is None):  # not an epr end
                segment.append(instruction)
                continue
            flush()
            v = index[instruction.qubits[0]]
            at = next(p for p, u in content.items() if u == v)
            if at not in comm_places:
                spare = [p for p in comm_places if content[p] in fresh and content[p] != v]
                if spare and v in fresh:  # relabel: the |0> qubit there becomes this comm qubit, and this one the |0> qubit
                    goal = min(spare, key=lambda p: (dist[at][p], p))
                    content[at], content[goal] = content[goal], v
                else:
                    goal = min(comm_places, key=lambda p: (dist[at][p], p))
                    path = _path(cmap, at, goal)
                    for a, b in zip(path, path[1:]):
                        ops.append((None, SwapGate(), (a, b), ()))
                        content[a], content[b] = content[b], content[a]
                        fixups += 1
                at = goal
            fresh.discard(v)
            cargs = tuple(c for c in instruction.clbits if c != self.chain[0])
            ops.append((op.tag, op, (at,), cargs))
        flush()
        where = {v: p for p, v in content.items()}
        for instruction in finals:
            v = self.circuit.find_bit(instruction.qubits[0]).index
            ops.append((None, instruction.operation, (where[v],), tuple(instruction.clbits)))
        return swaps + fixups, list(start), ops, content, swaps + fixups, fixups

    def _route_from(self, circuit: QuantumCircuit, finals: list, start: list[int], seed: int) -> tuple:
        """``(SWAPs, start, operations, content, SWAPs, comm-return SWAPs)`` of one routing from ``start``."""
        dev = self.device
        cmap = dev.coupling_map()
        layout = Layout({self.virtual[v]: p for v, p in enumerate(start)})
        manager = PassManager([SetLayout(layout), ApplyLayout(),
                               SabreSwap(cmap, heuristic="decay", seed=seed, trials=8)])
        routed = manager.run(circuit)
        content = {p: v for v, p in enumerate(start)}  # actual physical -> virtual
        perm = list(range(dev.num_qubits))  # routed physical -> actual physical
        home = {self.data + c: p for c, p in enumerate(dev.comm_physical[: self.size - self.data])}
        ops = []
        dist = dev.distances()
        swaps, fixups = 0, 0

        def swap(a, b):
            ops.append((None, SwapGate(), (a, b), ()))
            content[a], content[b] = content[b], content[a]
            for p, x in enumerate(perm):
                perm[p] = b if x == a else a if x == b else x

        comm_places = set(home.values())
        for instruction in routed.data:
            op = instruction.operation
            qargs = tuple(perm[routed.find_bit(q).index] for q in instruction.qubits)
            if op.name == "swap":
                swaps += 1
                a, b = qargs
                content[a], content[b] = content[b], content[a]
                ops.append((None, op, qargs, ()))
                continue
            cargs = tuple(c for c in instruction.clbits if c != self.chain[0])
            back = []
            if op.name == STAND_IN and op.original is None and qargs[0] not in comm_places:  # an epr end
                # away from every comm qubit: there and back again (the router's layout stands)
                at = qargs[0]
                goal = min(comm_places, key=lambda p: (dist[at][p], p))
                path = _path(cmap, at, goal)
                for a, b in zip(path, path[1:]):
                    swap(a, b)
                back = list(zip(path, path[1:]))[::-1]
                fixups += 2 * len(back)
                qargs = (goal,)
            ops.append((op.tag if op.name == STAND_IN else None, op, qargs, cargs))
            for a, b in back:
                swap(a, b)
        where = {v: p for p, v in content.items()}
        for instruction in finals:  # final measurements last, where their qubits ended (nothing moves them)
            v = self.circuit.find_bit(instruction.qubits[0]).index
            ops.append((None, instruction.operation, (where[v],), tuple(instruction.clbits)))
        return swaps + fixups, list(start), ops, content, swaps + fixups, fixups

    def _without_final_measurements(self) -> tuple[QuantumCircuit, list]:
        """The part without its final measurements (nothing after them touches their qubit or
        bit), and those: routing must not move a qubit after it is measured for good."""
        later: set = set()
        finals = []
        for position in range(len(self.circuit.data) - 1, -1, -1):
            instruction = self.circuit.data[position]
            wires = set(instruction.qubits) | set(instruction.clbits)
            if instruction.operation.name == "measure" and not wires & later:
                finals.append(position)
            later |= wires
        if not finals:
            return self.circuit, []
        kept = self.circuit.copy_empty_like()
        skip = set(finals)
        for position, instruction in enumerate(self.circuit.data):
            if position not in skip:
                kept.append(instruction)
        return kept, [self.circuit.data[p] for p in sorted(finals)]

    def position(self, slot: int, when: str) -> int:
        if when == "initial":
            return self.start[slot]
        return next(p for p, v in self.content.items() if v == slot)

    # ------------------------------------------------------------------ native gates
    def native_stream(self) -> list:
        """``(tag, op, physical qargs, cargs)`` in native gates; stand-ins restored, ``if`` bodies translated."""
        dev = self.device
        n = dev.num_qubits
        phys = QuantumRegister(n, "p")
        circuit = QuantumCircuit(phys)
        circuit.add_bits([c for c in self.circuit.clbits if c != self.chain[0]])
        circuit.add_register(self.chain)  # keeps the stand-ins in order through translation
        for tag, op, qargs, cargs in self.ops:
            if tag is not None:
                chained = op.external or op.original is None
                mark = _StandIn(len(qargs), len(cargs) + chained, tag, op.original, op.external)
                circuit.append(mark, [phys[q] for q in qargs], list(cargs) + ([self.chain[0]] if chained else []),
                               copy=False)
            else:
                circuit.append(op, [phys[q] for q in qargs], cargs, copy=False)
        native = self._translate(circuit)
        self.native = native
        stream = []
        for instruction in native.data:
            op = instruction.operation
            qargs = tuple(native.find_bit(q).index for q in instruction.qubits)
            if op.name == STAND_IN:
                original = op.original
                if original is not None and original.name == "if_else":
                    original = self._translate_if(original)
                stream.append((op.tag if op.external or op.original is None else None, original, qargs,
                               tuple(c for c in instruction.clbits if c != self.chain[0])))
            else:
                stream.append((None, op, qargs, tuple(instruction.clbits)))
        return stream

    def _manager(self) -> PassManager:
        """To ``cx`` + ``u`` (qiskit's equivalence library), then every two-qubit block resynthesised
        in the device's basis (``ConsolidateBlocks`` + ``UnitarySynthesis``: ``cx``, ``cz``, ``ecr``,
        ``rxx``, ...) and every one-qubit run in its one-qubit basis."""
        basis = list(self.device.basis)
        middle = ["cx", "u", *_KEEP]
        steps = [HighLevelSynthesis(basis_gates=middle, equivalence_library=SessionEquivalenceLibrary),
                 BasisTranslator(SessionEquivalenceLibrary, middle)]
        if self.device.basis_2q:
            steps += [ConsolidateBlocks(basis_gates=basis), UnitarySynthesis(basis_gates=basis)]
        steps += [Optimize1qGatesDecomposition(basis=basis), CommutativeCancellation(basis_gates=basis),
                  Optimize1qGatesDecomposition(basis=basis)]
        return PassManager(steps)

    def _translate(self, circuit: QuantumCircuit) -> QuantumCircuit:
        return self._manager().run(circuit)

    def _translate_if(self, op):
        body = op.blocks[0]
        native = self._translate(body)
        return op.replace_blocks([native] + list(op.blocks[1:]))

    def stats(self) -> dict:
        native = self.native
        two = sum(1 for i in native.data if len(i.qubits) == 2 and i.operation.name != STAND_IN)
        for i in native.data:
            if i.operation.name == STAND_IN and i.operation.original is not None and i.operation.original.name == "if_else":
                two += sum(1 for inner in i.operation.original.blocks[0].data if len(inner.qubits) == 2)
        return {"physical_qubits": self.device.num_qubits, "swaps": self.swaps, "comm_return_swaps": self.fixups,
                "two_qubit_gates": two, "depth": self._depth()}

    def _depth(self) -> int:
        """Depth of the native part over its qubits and bits (not the ordering wire of the stand-ins)."""
        native = self.native
        bits = [c for c in native.clbits if c != self.chain[0]]
        plain = QuantumCircuit(native.qubits, bits)
        for instruction in native.data:
            clbits = [c for c in instruction.clbits if c != self.chain[0]]
            if len(clbits) != len(instruction.clbits):
                op = Instruction("layer", len(instruction.qubits), len(clbits), [])
                plain.append(op, instruction.qubits, clbits)
            else:
                plain.append(instruction)
        return plain.depth()


def _path(cmap, a: int, b: int, avoid=()) -> list[int]:
    """A shortest path from ``a`` to ``b`` on the coupling map, around ``avoid`` when it can."""
    import rustworkx as rx  # noqa: PLC0415

    if a == b:
        return [a]
    graph = cmap.graph.to_undirected(multigraph=False)
    if avoid:
        trimmed = graph.copy()
        for p in avoid:
            if p not in (a, b):
                trimmed.remove_node(p)
        paths = rx.dijkstra_shortest_paths(trimmed, a, target=b)
        if b in paths:
            return list(paths[b])
    return list(rx.dijkstra_shortest_paths(graph, a, target=b)[b])
