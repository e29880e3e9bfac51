"""Hybrid partitioning: qubits move between time windows by teledata, telegates serve the rest.

The circuit is cut into *windows* (runs of two-qubit-gate layers, see :func:`windows`); every
window gets its own placement of the qubits (:func:`assign`), each window is compiled by the
ordinary pipeline with that placement fixed (its telegate bursts, comm-qubit plan and all), and
between windows every qubit whose QPU changes is teleported (:func:`dqc_compiler.protocols.teleport`,
one ebit per link of its route). :func:`compile_hybrid` stitches the pieces into one distributed
circuit under the output contract and reports it; :func:`dqc_compiler.pipeline.compile` keeps it
only when its true ``epr`` count beats the static plan's.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass

from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Clbit, QuantumRegister
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass
from qiskit.transpiler import PassManager

from .errors import DQCError
from .network import Network
from .protocols import settle, teleport

logger = logging.getLogger(__name__)

#: A cut pair of qubits in one window is estimated at most this many ebits (a quantum-volume SU(4) of 3 CX costs 3 as telegates).
PAIR_COST_CAP = 3
#: Weight of the next window's cut pairs when a window's placement is first chosen (as if nobody
#: moved after it): of the two qubits of a cut pair, the one whose next partner waits at the
#: destination moves (QV_32 stand-in, k = 2: 246 -> 176 ebits).
LOOKAHEAD = 0.5
#: The search is skipped when the window estimate of the static placement is above this many
#: times its true cost: there copies serve gates across many windows (QFT-300 in blocks: 43,500
#: cut pairs, 4,350 ebits), which the per-window estimate cannot see.
MODEL_SLACK = 2.5
#: The windows are compiled (the true count) when the estimate of the plan is below this many times
#: the static plan's ebits: windows with one placement are compiled together, so bursts span them
#: and the true count is often far below the estimate (Grover-7, k = 2, level 1: 498 -> 257).
ESTIMATE_SLACK = 1.5
#: Largest circuits :func:`plan_moves` searches in the automatic mode (qubits, windows).
AUTO_LIMITS = (400, 4000)


# ---------------------------------------------------------------------------- windows
def _is_interaction(instruction) -> bool:
    return len(instruction.qubits) >= 2 and instruction.operation.name != "barrier"


def windows(circuit: QuantumCircuit, group: int = 1) -> tuple[list[int], list[dict]]:
    """The window of every instruction of ``circuit`` and the weighted qubit pairs of every window.

    Multi-qubit gates are layered as soon as possible (over qubit and classical wires); consecutive
    layers form one window while every qubit keeps at most one set of partners (a window's
    interactions are a matching, as a quantum-volume layer's three CX of one SU(4) are); ``group``
    windows of those are merged into one. Every other instruction joins the latest window of its
    wires, so the windows, run one after another, are a topological order of the circuit.
    """
    index = {q: k for k, q in enumerate(circuit.qubits)}
    offset = len(index)
    index.update({c: offset + k for k, c in enumerate(circuit.clbits)})
    wires_of, interaction = [], []
    for instruction in circuit.data:
        wires_of.append([index[w] for w in (*instruction.qubits, *instruction.clbits)])
        interaction.append(_is_interaction(instruction))
    depth = [0] * len(index)
    layer_of: dict[int, int] = {}
    layers: dict[int, list[int]] = {}
    for i, wires in enumerate(wires_of):
        if interaction[i]:
            layer = 1 + max(depth[w] for w in wires)
            for w in wires:
                depth[w] = layer
            layer_of[i] = layer
            layers.setdefault(layer, []).append(i)
    base_of_layer: dict[int, int] = {}
    base, partners = 0, {}
    for layer in sorted(layers):
        gates = [frozenset(w for w in wires_of[i] if w < offset) for i in layers[layer]]
        if any(q in partners and partners[q] != g for g in gates for q in g):
            base, partners = base + 1, {}
        for g in gates:
            for q in g:
                partners[q] = g
        base_of_layer[layer] = base
    of_op, window_of_wire = [], [0] * len(index)
    for i, wires in enumerate(wires_of):
        window = max((window_of_wire[w] for w in wires), default=0)
        if i in layer_of:
            window = max(window, base_of_layer[layer_of[i]] // group)
        for w in wires:
            window_of_wire[w] = window
        of_op.append(window)
    count = max(of_op, default=-1) + 1
    pairs: list[dict] = [{} for _ in range(count)]
    for i in layer_of:
        qubits = sorted({w for w in wires_of[i] if w < offset})
        window = pairs[of_op[i]]
        for x in range(len(qubits)):
            for y in range(x + 1, len(qubits)):
                key = (qubits[x], qubits[y])
                window[key] = window.get(key, 0) + 1
    return of_op, pairs


# ---------------------------------------------------------------------------- placement per window
class _Distances:
    """``dist[a][b]``: links a move or copy from QPU ``a`` to ``b`` crosses (inf without comm
    qubits or a route), looked up on first use (networks of hundreds of QPUs)."""

    def __init__(self, network: Network):
        self.network = network
        self.rows: dict[int, _Row] = {}

    def __getitem__(self, a: int) -> "_Row":
        if a not in self.rows:
            self.rows[a] = _Row(self.network, a)
        return self.rows[a]


class _Row(dict):
    def __init__(self, network: Network, a: int):
        super().__init__()
        self.network, self.a = network, a

    def __missing__(self, b: int) -> float:
        network, a = self.network, self.a
        if a == b:
            value = 0.0
        elif network.qpus[a].comm_qubits and network.qpus[b].comm_qubits:
            value = network.distance(a, b)
        else:
            value = math.inf
        self[b] = value
        return value


class _Search:
    """Local search over per-window placements: cut pairs (capped weights x route length) plus moves."""

    def __init__(self, pairs: list[dict], n: int, network: Network):
        self.n, self.k = n, network.num_qpus
        self.caps = [q.data_qubits for q in network.qpus]
        self.dist = _Distances(network)
        self.ahead = LOOKAHEAD
        self.partners: list[list[list[tuple[int, int]]]] = []
        for window in pairs:
            by_qubit: list[list[tuple[int, int]]] = [[] for _ in range(n)]
            for (a, b), w in window.items():
                w = min(w, PAIR_COST_CAP)
                by_qubit[a].append((b, w))
                by_qubit[b].append((a, w))
            self.partners.append(by_qubit)

    def cut(self, t: int, placement: list[int]) -> float:
        return sum(w * self.dist[placement[a]][placement[b]]
                   for a in range(self.n) for b, w in self.partners[t][a] if a < b)

    def moves(self, before: list[int], after: list[int]) -> float:
        return sum(self.dist[a][b] for a, b in zip(before, after))

    def total(self, placements: list[list[int]]) -> float:
        cost = sum(self.cut(t, p) for t, p in enumerate(placements))
        return cost + sum(self.moves(a, b) for a, b in zip(placements, placements[1:]))

    def _local(self, t, q, p, placement, prev, nxt) -> float:
        dist = self.dist
        cost = sum(w * dist[p][placement[r]] for r, w in self.partners[t][q])
        if nxt is None and self.ahead and t + 1 < len(self.partners):  # the next window, as if nobody moved
            cost += self.ahead * sum(w * dist[p][placement[r]] for r, w in self.partners[t + 1][q])
        if prev is not None:
            cost += dist[prev[q]][p]
        if nxt is not None:
            cost += dist[p][nxt[q]]
        return cost

    def improve(self, t: int, placement: list[int], prev, nxt, fixed: bool = False, rounds: int = 200) -> None:
        """Best-improvement moves and swaps of single qubits in window ``t`` (in place)."""
        if fixed:
            return
        caps, k = self.caps, self.k
        for _ in range(rounds):
            occupancy = [0] * k
            on: list[list[int]] = [[] for _ in range(k)]
            for q, p in enumerate(placement):
                occupancy[p] += 1
                on[p].append(q)
            best, best_delta = None, -1e-9
            for q in range(self.n):
                a = placement[q]
                targets = {placement[r] for r, _ in self.partners[t][q]}
                if prev is not None:
                    targets.add(prev[q])
                if nxt is not None:
                    targets.add(nxt[q])
                targets.discard(a)
                if not targets:
                    continue
                here = self._local(t, q, a, placement, prev, nxt)
                for p in targets:
                    if occupancy[p] < caps[p]:
                        delta = self._local(t, q, p, placement, prev, nxt) - here
                        if delta < best_delta:
                            best, best_delta = (q, p, None, None), delta
                    for r in on[p]:  # swap q and r, or r on to a QPU with room (a chain of moves)
                        before = here + self._local(t, r, p, placement, prev, nxt)
                        for s in (a, *(s for s in range(k) if s not in (a, p) and occupancy[s] < caps[s])):
                            placement[q], placement[r] = p, s
                            after = self._local(t, q, p, placement, prev, nxt) + self._local(t, r, s, placement, prev, nxt)
                            placement[q], placement[r] = a, p
                            if after - before < best_delta:
                                best, best_delta = (q, p, r, s), after - before
            if best is None:
                return
            q, p, r, s = best
            if r is not None:
                placement[r] = s
            placement[q] = p


def assign(pairs: list[dict], n: int, network: Network, start: list[int], fixed_start: bool = False,
           sweeps: int = 2) -> tuple[list[list[int]], float]:
    """A placement per window and its estimated cost: from ``start`` (the static partition), window
    by window keep the previous placement and improve it (moves cost route lengths, cut pairs
    their capped weights), then ``sweeps`` rounds that re-improve each window between its
    neighbours. ``fixed_start`` keeps the first window on ``start`` (a partition the user fixed)."""
    search = _Search(pairs, n, network)
    placements: list[list[int]] = []
    for t in range(len(pairs)):
        placement = list(placements[-1] if placements else start)
        search.improve(t, placement, placements[-1] if placements else None, None, fixed=fixed_start and t == 0)
        placements.append(placement)
    for _ in range(sweeps):
        before = search.total(placements)
        for t in reversed(range(len(placements))):
            search.improve(t, placements[t], placements[t - 1] if t else None,
                           placements[t + 1] if t + 1 < len(placements) else None, fixed=fixed_start and t == 0)
        if search.total(placements) >= before - 1e-9:
            break
    return placements, search.total(placements)


def plan_moves(circuit: QuantumCircuit, network: Network, start: list[int], fixed_start: bool = False,
               groups: tuple[int, ...] = (1, 2), seed: int | None = None,
               restarts: int = 2, beat: int | None = None) -> tuple[list[int], list[list[int]], float] | None:
    """The cheapest (by estimate) windowing and placements, or None when no window moves a qubit:
    ``(window of each instruction, placement per window, estimated ebits)``. Tried: each window
    ``group`` size, starting from ``start`` (the static partition), from contiguous blocks and from
    ``restarts`` shuffles of it (seeded; none when ``fixed_start``; fewer on large inputs). With
    ``beat`` (the static plan's ebits), None at once when the estimate of the static placement
    itself exceeds :data:`MODEL_SLACK` times it."""
    n = circuit.num_qubits
    starts = [list(start)]
    if not fixed_start:
        blocks = sorted(start)
        rng = random.Random(seed if seed is not None else 0)
        starts.append(blocks)
        for _ in range(restarts):
            shuffled = list(blocks)
            rng.shuffle(shuffled)
            starts.append(shuffled)
    best = None
    for group in groups:
        of_op, pairs = windows(circuit, group)
        if len(pairs) < 2:
            continue
        if beat is not None and group == groups[0]:
            distance = {}
            static = 0.0
            for window in pairs:
                for (a, b), w in window.items():
                    key = (start[a], start[b])
                    if key[0] != key[1]:
                        if key not in distance:
                            distance[key] = network.distance(*key)
                        static += min(w, PAIR_COST_CAP) * distance[key]
            if static > MODEL_SLACK * beat:
                return None  # copies outlive windows here: the window estimate is no guide
        for first in starts if n * len(pairs) <= 50_000 else starts[:1]:
            placements, estimate = assign(pairs, n, network, first, fixed_start)
            if best is None or estimate < best[2]:
                best = (of_op, placements, estimate)
    if best is None or all(p == best[1][0] for p in best[1]):
        return None
    return best


# ---------------------------------------------------------------------------- stitching
class _Seed(AnalysisPass):
    """Put given values into the property set (for the analysis passes run on a stitched circuit)."""

    def __init__(self, values: dict):
        super().__init__()
        self.values = values

    def run(self, dag: DAGCircuit) -> None:
        for key, value in self.values.items():
            self.property_set[key] = value


@dataclass
class Stitched:
    """A hybrid compilation: the circuit, the property-set values the report needs, the history."""

    circuit: QuantumCircuit
    properties: dict
    history: list[list[tuple[int, int, int]]]  # per input qubit: (window, qpu, slot) at each new home
    windows: int
    teleports: int


class _Stitcher:
    """Builds the combined circuit: QPU registers of full data capacity, then the comm qubits."""

    def __init__(self, circuit: QuantumCircuit, network: Network):
        self.network = network
        self.caps = [q.data_qubits for q in network.qpus]
        self.registers = [QuantumRegister(cap + q.comm_qubits, q.name) for cap, q in zip(self.caps, network.qpus)]
        self.out = QuantumCircuit(*self.registers, name=circuit.name)
        for clbit in circuit.clbits:
            if not circuit.find_bit(clbit).registers:
                self.out.add_bits([clbit])
        for creg in circuit.cregs:
            if creg.name in {q.name for q in network.qpus}:
                raise DQCError(f"classical register '{creg.name}' has the name of a QPU; rename one of them")
            self.out.add_register(creg)
        self.inputs = set(circuit.clbits)
        self.bits: list[list[Clbit]] = [[] for _ in network.qpus]
        self.occupant: list[dict[int, int]] = [{} for _ in network.qpus]  # qpu -> slot -> input qubit
        self.loc: list[tuple[int, int]] = []
        self.held: dict[int, tuple[int, int]] = {}  # input qubit -> (qpu, comm index) while in a comm qubit
        self.teleports = self.ebits = self.swaps = 0
        self.operations: list[tuple] = []  # appended once every protocol bit is in a register

    def data(self, j: int, s: int):
        return self.registers[j][s]

    def comm(self, j: int, c: int):
        return self.registers[j][self.caps[j] + c]

    def apply_operation_back(self, op, qargs=(), cargs=()):
        self.operations.append((op, tuple(qargs), tuple(cargs)))

    def new_bit(self, j: int) -> Clbit:
        bit = Clbit()
        self.bits[j].append(bit)
        return bit

    def free_slot(self, j: int) -> int | None:
        for s in range(self.caps[j]):
            if s not in self.occupant[j]:
                return s
        return None

    def free_comm(self, j: int, taken: set) -> int | None:
        held = {c for (hj, c) in self.held.values() if hj == j}
        for c in range(self.network.qpus[j].comm_qubits):
            if c not in held and (j, c) not in taken:
                return c
        return None

    def teleport(self, q: int, dest: int, hold: bool = False) -> None:
        """Teleport input qubit ``q`` to QPU ``dest``: into a free data slot, or (``hold``) into a comm qubit."""
        j, s = self.loc[q]
        route = self.network.route(j, dest)
        if route is None:
            raise DQCError(f"no route for teledata from '{self.network.qpus[j].name}' to '{self.network.qpus[dest].name}'")
        taken: set = set()

        def take(qpu: int) -> int:
            c = self.free_comm(qpu, taken)
            if c is None:
                raise DQCError(f"QPU '{self.network.qpus[qpu].name}' has no free comm qubit for teledata")
            taken.add((qpu, c))
            return c

        home, remote = take(j), take(dest)
        relays = tuple((self.comm(r, take(r)), self.comm(r, take(r))) for r in route.relays)
        relay_bits = tuple((self.new_bit(r), self.new_bit(r)) for r in route.relays)
        slot = None if hold else self.free_slot(dest)
        teleport(self, self.data(j, s), self.comm(j, home), self.comm(dest, remote), (self.new_bit(j), self.new_bit(j)),
                 None if slot is None else self.data(dest, slot), relays, relay_bits)
        del self.occupant[j][s]
        self.teleports += 1
        self.ebits += route.hops
        self.swaps += len(route.relays)
        if slot is None:
            self.held[q] = (dest, remote)
            self.loc[q] = (dest, -1)
        else:
            self.occupant[dest][slot] = q
            self.loc[q] = (dest, slot)
        self.settle_held()

    def settle_held(self) -> None:
        for q, (j, c) in list(self.held.items()):
            slot = self.free_slot(j)
            if slot is not None:
                settle(self, self.comm(j, c), self.data(j, slot))
                del self.held[q]
                self.occupant[j][slot] = q
                self.loc[q] = (j, slot)

    def move_to(self, target: list[int]) -> None:
        """Teleport every qubit whose QPU differs from ``target``: moves into a free slot first; a
        cycle of full QPUs is broken by parking one qubit in a comm qubit of its destination."""
        pending = [q for q, p in enumerate(target) if self.loc[q][0] != p]
        while pending:
            ready = [q for q in pending if self.free_slot(target[q]) is not None]
            if ready:
                q = ready[0]
                self.teleport(q, target[q])
            else:
                parkable = [q for q in pending if self.free_comm(target[q], set()) is not None
                            and self.network.qpus[target[q]].comm_qubits - sum(
                                1 for (hj, _) in self.held.values() if hj == target[q]) >= 2]
                if not parkable:
                    raise DQCError("no free data or comm qubit to move a qubit into")
                q = parkable[0]
                self.teleport(q, target[q], hold=True)
            pending.remove(q)
        if self.held:  # pragma: no cover - every QPU within capacity after the moves
            raise DQCError("a teleported qubit found no free data qubit")


def compile_hybrid(circuit: QuantumCircuit, network: Network, of_op: list[int], placements: list[list[int]],
                   seed: int | None, optimization_level: int) -> Stitched:
    """Compile every window with its placement fixed and join them with teledata moves.
    Consecutive windows with the same placement are compiled as one (their bursts may span them)."""
    from .passes import CountCost, ScheduleCommunication  # noqa: PLC0415 - pipeline imports this module
    from .pipeline import generate_dqc_pass_manager  # noqa: PLC0415

    windows_in_plan = len(placements)
    firsts, run_of = [], []
    for t, placement in enumerate(placements):
        if not firsts or placements[firsts[-1]] != placement:
            firsts.append(t)
        run_of.append(len(firsts) - 1)
    of_op = [run_of[t] for t in of_op]
    placements = [placements[t] for t in firsts]
    count = len(placements)
    subs = []
    for t in range(count):
        sub = circuit.copy_empty_like()
        if t:
            sub.global_phase = 0
        subs.append(sub)
    for instruction, t in zip(circuit.data, of_op):
        subs[t]._append(instruction)
    stitch = _Stitcher(circuit, network)
    n = circuit.num_qubits
    history: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]
    totals = {"nonlocal_gates": 0, "telegates": 0, "bursts": 0, "bursts_split": 0, "end_to_end_ebits": 0,
              "entanglement_swaps": 0, "ebits_unlimited_comm": 0, "absorbed": 0}
    for t, (sub, placement) in enumerate(zip(subs, placements)):
        if t == 0:
            counts = [0] * network.num_qpus
            for q, p in enumerate(placement):
                stitch.loc.append((p, counts[p]))
                stitch.occupant[p][counts[p]] = q
                counts[p] += 1
        else:
            stitch.move_to(placement)
        for q in range(n):
            if not history[q] or history[q][-1][1:] != stitch.loc[q]:
                history[q].append((firsts[t], *stitch.loc[q]))
        if not sub.data:
            continue
        manager = generate_dqc_pass_manager(network, seed=seed, optimization_level=optimization_level,
                                            partition=placement)
        piece = manager.run(sub)
        props = manager.property_set
        local = props["dqc_layout"]
        slot_of = {}
        for q, (j, s) in enumerate(local["initial"]):
            slot_of[(j, s)] = stitch.loc[q]
        qubit_map = {}
        for register in piece.qregs:
            j = network.index(register.name)
            data_count = sum(1 for p in placement if p == j)
            for i, qubit in enumerate(register):
                if i < data_count:
                    qubit_map[qubit] = stitch.data(*slot_of[(j, i)])
                else:
                    qubit_map[qubit] = stitch.comm(j, i - data_count)
        for instruction in piece.data:
            qargs = [qubit_map[q] for q in instruction.qubits]
            if instruction.operation.name == "measure" and instruction.clbits[0] not in stitch.inputs:
                j = network.index(piece.find_bit(instruction.qubits[0]).registers[0][0].name)
                stitch.bits[j].append(instruction.clbits[0])
            stitch.apply_operation_back(instruction.operation, qargs, instruction.clbits)
        stitch.out.global_phase += piece.global_phase
        stitch.loc = [slot_of[tuple(position)] for position in local["final"]]
        for j in range(network.num_qpus):
            stitch.occupant[j] = {}
        for q, (j, s) in enumerate(stitch.loc):
            stitch.occupant[j][s] = q
        cost, protocols = props["dqc_cost"], props["dqc_protocols"] or {}
        for key in ("nonlocal_gates", "telegates", "bursts", "bursts_split", "end_to_end_ebits", "entanglement_swaps"):
            totals[key] += cost[key]
        totals["ebits_unlimited_comm"] += protocols.get("ebits_unlimited_comm", cost["ebits"])
        totals["absorbed"] += int(props.get("dqc_absorbed_swaps") or 0)
    for q in range(n):
        if history[q][-1][1:] != stitch.loc[q]:
            history[q].append((windows_in_plan, *stitch.loc[q]))
    out = stitch.out
    for j, qpu in enumerate(network.qpus):
        if stitch.bits[j]:
            name = f"{qpu.name}_m"
            while name in {r.name for r in out.cregs} | {r.name for r in out.qregs}:
                name += "_"
            out.add_register(ClassicalRegister(name=name, bits=stitch.bits[j]))
    for op, qargs, cargs in stitch.operations:
        out.append(op, qargs, cargs, copy=False)
    initial = [history[q][0][1:] for q in range(n)]
    final = list(stitch.loc)
    names = [q.name for q in network.qpus]
    out.metadata = dict(circuit.metadata or {})
    out.metadata["dqc_layout"] = {
        "initial": [{"qpu": names[j], "index": s} for j, s in initial],
        "final": [{"qpu": names[j], "index": s} for j, s in final],
    }
    all_slots = [(j, s) for j, cap in enumerate(stitch.caps) for s in range(cap)]
    analysis = PassManager([
        _Seed({"dqc_layout": {"initial": all_slots, "final": final}, "dqc_bursts": [], "dqc_protocols": {}}),
        ScheduleCommunication(network), CountCost(),
    ])
    analysis.run(out)
    props = dict(analysis.property_set)
    cost = props["dqc_cost"]
    for key in ("nonlocal_gates", "telegates", "bursts", "bursts_split"):
        cost[key] = totals[key]
    cost["teledata"] = stitch.teleports
    cost["end_to_end_ebits"] = totals["end_to_end_ebits"] + stitch.teleports
    cost["entanglement_swaps"] = totals["entanglement_swaps"] + stitch.swaps
    cost["ebits_unlimited_comm"] = totals["ebits_unlimited_comm"] + stitch.ebits
    props["dqc_absorbed_swaps"] = totals["absorbed"]
    props["dqc_layout"] = {"initial": initial, "final": final}
    return Stitched(out, props, history, windows_in_plan, stitch.teleports)


def history_report(stitched: Stitched, network: Network) -> list[list[dict]]:
    """The report's ``layout.history``: per input qubit, its homes in order (``window`` where each begins)."""
    names = [q.name for q in network.qpus]
    return [[{"window": t, "qpu": names[j], "index": s} for t, j, s in homes] for homes in stitched.history]


def resets_or_measures(circuit: QuantumCircuit) -> bool:
    """Whether the input resets or measures a qubit anywhere (control-flow bodies included)."""
    for instruction in circuit.data:
        if instruction.operation.name in ("reset", "measure"):
            return True
        if any(resets_or_measures(block) for block in getattr(instruction.operation, "blocks", ())):
            return True
    return False


def try_hybrid(circuit: QuantumCircuit, network: Network, start: list[int], *, beat: int | None,
               seed: int | None, optimization_level: int, fixed_start: bool = False) -> Stitched | None:
    """A hybrid compilation that beats ``beat`` ebits (None: any that moves a qubit), or None."""
    began = time.perf_counter()
    if beat is not None and beat <= 1:
        return None  # nothing to win
    # the verifier knows an input's reset by the position the qubit started on, and a window's
    # final measurement can land before a later window moves the qubit: no plan for such inputs yet
    if resets_or_measures(circuit):
        return None
    if beat is not None and (circuit.num_qubits > AUTO_LIMITS[0] or len(circuit.data) > 50 * AUTO_LIMITS[1]):
        return None
    found = plan_moves(circuit, network, start, fixed_start, seed=seed, beat=beat)
    if found is None:
        return None
    of_op, placements, estimate = found
    logger.info("hybrid: %d windows, estimate %.0f ebits (static %s)", len(placements), estimate, beat)
    if beat is not None and estimate >= ESTIMATE_SLACK * beat:
        return None
    try:
        stitched = compile_hybrid(circuit, network, of_op, placements, seed, optimization_level)
    except DQCError as exc:
        logger.info("hybrid: %s", exc)
        return None
    logger.info("hybrid: %d ebits in %.2fs", stitched.properties["dqc_cost"]["ebits"], time.perf_counter() - began)
    if beat is not None and stitched.properties["dqc_cost"]["ebits"] >= beat:
        return None
    return stitched
