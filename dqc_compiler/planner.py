"""Plan the protocols for a grouping into bursts: one walk of the circuit under the network's comm-qubit limits.

:func:`plan` is the one evaluation of "what does this grouping really cost": the partitioner and
:class:`~dqc_compiler.passes.GroupBursts` call it dry (counting only), and
:class:`~dqc_compiler.passes.InsertTelegates` calls it once more recording the operations it emits.
"""

from __future__ import annotations

import heapq

from qiskit.circuit import Clbit, QuantumRegister
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.exceptions import TranspilerError

from .errors import DQCError, NoRoute
from .network import Network
from .protocols import cat_disentangle, cat_entangle, correct_copy, flip_copy
from .segments import Burst, CircuitModel, Side, role_of


class _Recorder:
    """Collects operations (the protocols write into it as into a DAG) until the registers are known."""

    def __init__(self):
        self.operations: list[tuple] = []

    def apply_operation_back(self, op, qargs=(), cargs=()):
        self.operations.append((op, tuple(qargs), tuple(cargs)))


def check_resources(bursts: list[Burst], network: Network) -> None:
    """Raise a one-line error when the network cannot run these bursts at all."""
    qpus = network.qpus
    needs_comm = {b.home for b in bursts} | {b.remote for b in bursts}
    for j in sorted(needs_comm):
        if qpus[j].comm_qubits == 0:
            raise DQCError(f"QPU '{qpus[j].name}' has no comm qubits but the partition needs it to communicate")
    for home, remote in dict.fromkeys((b.home, b.remote) for b in bursts):  # each pair once, in order
        if network.route(home, remote) is None:
            raise NoRoute(
                f"QPUs '{qpus[home].name}' and '{qpus[remote].name}' must share an ebit but no path of links "
                "joins them (a QPU relays only with at least 2 comm qubits)"
            )


def plan(
    dag: DAGCircuit,
    bursts: list[Burst],
    parts: list[int],
    network: Network,
    dry: bool = True,
    model: CircuitModel | None = None,
    limit: int | None = None,
) -> "Plan":
    """Walk ``dag`` as the pass does; ``dry`` only counts (``opened``, ``split``), else it also
    records the distributed operations (registers included) without building a DAG. ``model``:
    the :class:`~dqc_compiler.segments.CircuitModel` of ``dag`` (built when not given).

    The walk takes the order its rules choose among those the commuting runs allow. A dry run with
    ``limit`` stops as soon as it has spent that many ebits (``complete`` is then False and
    ``ebits`` at least ``limit``): the searches need not finish a grouping that has lost. When it
    records (``dry=False``: the walk :class:`~dqc_compiler.passes.InsertTelegates` emits) and
    that order reopens copies, the walk in the DAG's own order is tried as well and the cheaper
    one kept: the greedy rules are no guarantee (on the level 1 grouping of QFT-64 on 4 QPUs the
    DAG's order reopens fewer). Dry runs, which the searches repeat many times, take the first
    walk only, so the emitted count is at most what they measured.

    Complexity: O(g log g + c log c) for g gates and c copies opened (heaps of runnable gates and
    of waiting groups, see :meth:`Plan._choose`); the serving options of a partition are built once
    for all the walks over it."""
    check_resources(bursts, network)
    qpus = network.qpus
    slots, counts = [], [0] * len(qpus)
    for q in range(dag.num_qubits()):
        slots.append((parts[q], counts[parts[q]]))
        counts[parts[q]] += 1
    registers = [QuantumRegister(counts[j] + qpu.comm_qubits, qpu.name) for j, qpu in enumerate(qpus)]
    data = [registers[j][s] for j, s in slots]
    model = model if model is not None and model.describes(dag) else CircuitModel(dag)
    best = None
    if dry and limit is not None:
        walk = Plan(model, bursts, parts, data, registers, counts, network, dry, model.index)
        walk.slots, walk.registers = slots, registers
        walk.complete = walk.run(limit=limit)
        return walk
    for index in (model.index,) if dry else (model.index, model.strict_index):
        walk = Plan(model, bursts, parts, data, registers, counts, network, dry, index)
        walk.slots = slots
        walk.registers = registers
        if walk.run(limit=None if best is None else best.ebits):
            best = walk
        if not best.split:
            break
    return best


def _options(circuit: CircuitModel, model, parts: list[int]) -> dict[int, list[tuple]]:
    """Per nonlocal two-qubit gate, the copies ``(side, remote QPU)`` of the full burst model that
    could serve it (an open one serves it for free). The same for every walk of one partition: the
    last one is kept on the circuit model (read only)."""
    key = (id(model), tuple(parts))
    found = circuit.plan_options
    if found is not None and found[0] == key:
        return found[1]
    options: dict[int, list[tuple]] = {}
    sides = model.sides
    for node_id, a, b, sa, sb in model.compact:
        pa, pb = parts[a], parts[b]
        if pa != pb:
            options[node_id] = [(sides[side], p) for side, p in ((sa, pb), (sb, pa)) if side >= 0]
    circuit.plan_options = (key, options)
    return options


class Plan:
    """The protocols of one grouping: one pass over the input in a burst-friendly order.

    The order respects the DAG up to operations that commute on a wire
    (:class:`~dqc_compiler.segments.DagIndex`; :func:`plan` also tries the DAG's own order when
    this one reopens copies). Every gate that an open copy (or none) can serve
    runs first; only when none is left is a copy opened, for the waiting gate chosen by
    :meth:`_choose`: one whose copy fits in the free comm qubits, and among those the copy
    that can serve the largest share of its remaining gates at once, so that it closes soon. When
    no copy fits, the QPU closes the open copy that has no gate ready and is needed last
    (Belady's rule) and reopens it when it is next used.

    After :meth:`run`: ``ebits`` (link-level ebits, the ``epr`` count), ``opened`` (end-to-end
    ebits), ``swaps``, ``split`` (bursts closed early for lack of comm qubits; ``reopened`` per
    burst index) and, unless dry, the ``recorder``'s operations, ``bits`` and ``registers``.
    """

    def __init__(self, circuit: CircuitModel, bursts, parts, data, registers, counts, network, dry=False, index=None):
        dag = circuit.dag
        self.structure = index if index is not None else circuit.index
        self.roles = circuit.roles
        self.dry = dry
        self.parts = parts
        self.data = data
        self.network = network
        self.qpus = qpus = network.qpus
        self.recorder = _Recorder()
        self.bits: list[list[Clbit]] = [[] for _ in qpus]
        self.free_comm = [list(registers[j][counts[j]:]) for j in range(len(qpus))]
        self.order = self.structure.order
        self.bursts_of: dict[int, list[Burst]] = {}  # a gate on three qubits can need two copies
        for b in bursts:
            for node_id in b.nodes:
                self.bursts_of.setdefault(node_id, []).append(b)
        # copies of the full burst model that could serve each gate: an open one serves it for free
        model = circuit.bursts()
        self.model = model
        self.options = _options(circuit, model, parts)
        self.open_by_key: dict[tuple, Burst] = {}
        self.remaining = {id(b): list(b.nodes) for b in bursts}
        self.copy_of: dict[int, object] = {}  # id(burst) -> remote comm qubit while open
        self.open_on: list[dict[int, Burst]] = [{} for _ in qpus]  # QPU -> open copies it hosts
        self.open_of_qubit: dict[int, dict[int, Burst]] = {}  # input qubit -> its open copies
        self.index = {q: dag.find_bit(q).index for q in dag.qubits}
        self.opened = 0  # cat-entanglements (end-to-end ebits)
        self.ebits = 0  # link-level ebits (epr operations)
        self.complete = True  # False: a dry run stopped at its ``limit``
        self.swaps = 0  # entanglement swaps on relays
        self.split = 0
        self.closed = 0
        self.number = {id(b): i for i, b in enumerate(bursts)}  # id(burst) -> its index in ``bursts``
        self.reopened: dict[int, int] = {}  # index in ``bursts`` -> times that burst was closed early
        self.framed: set[int] = set()  # id(burst) of open Z copies inside a Hadamard sandwich
        self._index_bursts(bursts)
        self.ready = {id(b): 0 for b in bursts}  # gates of each burst whose predecessors are done

    def _index_bursts(self, bursts: list[Burst]) -> None:
        """What the walk looks up per burst: its route, key, the comm qubits it needs free to open
        (its own on the remote QPU, the home's for a moment, two per relay) and the gates it can
        serve once open (its own, and those planned on the other qubit's copy that it can serve)."""
        network, model = self.network, self.model
        self.routes = {}
        for b in bursts:
            if (b.home, b.remote) not in self.routes:
                self.routes[b.home, b.remote] = network.route(b.home, b.remote)
        self.key_of = {id(b): self._key(b, model) for b in bursts}
        self.needs: dict[int, tuple] = {}
        for b in bursts:
            need = {b.remote: 1}
            need[b.home] = need.get(b.home, 0) + 1
            for r in self.routes[b.home, b.remote].relays:
                need[r] = need.get(r, 0) + 2
            self.needs[id(b)] = tuple(need.items())
        # a two-qubit gate planned on one copy may use an open copy of the other qubit instead
        self.alternatives = {n: o for n, o in self.options.items() if len(self.bursts_of.get(n, ())) == 1}
        by_key = {key: b for b in bursts if (key := self.key_of[id(b)]) is not None}
        self.servable_by: dict[int, list[int]] = {id(b): list(b.nodes) for b in bursts}
        for node_id, keys in self.alternatives.items():
            for key in keys:
                if key in by_key:
                    self.servable_by[id(by_key[key])].append(node_id)

    def run(self, limit: int | None = None) -> bool:
        """Walk the circuit. Gates that need no new copy run first (in circuit order); when none
        is left, the copies of the waiting gate :meth:`_choose` prefers are opened. With
        ``limit``, give up (return False) as soon as the walk spends that many ebits."""
        structure = self.structure
        nodes, order, releases, member_of = structure.nodes, self.order, structure.releases, structure.member_of
        waits, left = dict(structure.waits), list(structure.runs)
        runnable: list = []  # heap of (circuit order, node id): gates no new copy is needed for
        waiting: dict[int, tuple] = {}  # ready gates that need copies opened -> those copies
        self.groups: dict[tuple, list] = {}  # waiting gates by the copies they need: heaps by order
        self._group_bursts: dict[tuple, tuple] = {}  # group -> the bursts it needs

        # _choose keeps a heap of the groups' keys and recomputes only those that may have become
        # smaller since (a new waiting gate, a ready gate of one of their bursts, a comm qubit freed
        # on one of their QPUs): the same choice as scanning every group, without the scan
        self._keys: list = []  # (key, group) with key <= the group's current key
        self._dirty: set[tuple] = set()  # groups whose key may have dropped
        self._of_burst: dict[int, set[tuple]] = {}  # id(burst) -> groups that need it
        self._on_qpu: list[set[tuple]] = [set() for _ in self.qpus]  # QPU -> groups that need it free
        self._seen = [len(f) for f in self.free_comm]  # free comm qubits at the last choice
        self._wait_ids: dict[int, tuple] = {}  # waiting gate -> its group

        def wait(node_id: int, missing: tuple) -> None:
            waiting[node_id] = missing
            ids = tuple(map(id, missing))
            self._wait_ids[node_id] = ids
            heap = self.groups.get(ids)
            if heap is None:
                heap = self.groups[ids] = []
                self._register(ids, missing)
            heapq.heappush(heap, (order[node_id], node_id))
            self._dirty.add(ids)

        def arrive(node_id: int) -> None:
            for burst in self.bursts_of.get(node_id, ()):
                self.ready[id(burst)] += 1
                found = self._of_burst.get(id(burst))
                if found:
                    self._dirty.update(found)
            missing = self._missing(node_id)
            if missing:
                wait(node_id, missing)
            else:
                heapq.heappush(runnable, (order[node_id], node_id))

        for node_id, count in waits.items():
            if not count:
                arrive(node_id)
        while runnable or waiting:
            if runnable:
                node_id = heapq.heappop(runnable)[1]
                missing = self._missing(node_id)
                if missing:  # its copy was closed to make room
                    wait(node_id, missing)
                    continue
            else:
                node_id = self._choose(waiting)
                del waiting[node_id]
                opened: tuple = ()
                for burst in self.bursts_of[node_id]:
                    if self._server(node_id, burst) is None:
                        self._open(burst, keep=opened)
                        if limit is not None and self.ebits >= limit:
                            return False
                        for other in self.servable_by[id(burst)]:  # gates the new copy can serve
                            if other in waiting and not self._missing(other):
                                del waiting[other]
                                heapq.heappush(runnable, (order[other], other))
                    opened += (burst,)
            self._emit(nodes[node_id])
            for burst in self.bursts_of.get(node_id, ()):
                self.ready[id(burst)] -= 1
            for run in member_of[node_id]:
                left[run] -= 1
                if left[run]:
                    continue
                for succ in releases[run]:
                    waits[succ] -= 1
                    if waits[succ] == 0:
                        arrive(succ)
        if self.copy_of:  # pragma: no cover - every burst ends at its last node
            raise TranspilerError("bursts left open at the end of the circuit")
        return True

    def _missing(self, node_id: int) -> tuple:
        """The planned copies of this gate that no open copy stands in for."""
        return tuple(b for b in self.bursts_of.get(node_id, ()) if self._server(node_id, b) is None)

    def _choose(self, waiting: dict[int, tuple]) -> int:
        """The waiting gate whose copies to open next: one whose copies fit without closing
        another copy if any does; then the one whose copy can serve the largest share of its
        remaining gates at once (it closes soonest, holding its comm qubit for the least time);
        then circuit order.

        The key of a group (the gates waiting for the same copies) is that of its earliest gate.
        Keys only grow (gates run, ``ready`` and ``remaining`` drop together, comm qubits are
        taken) except when a gate joins a group, a gate of one of its bursts becomes ready or a
        comm qubit is freed on one of its QPUs; those groups are recomputed, the others keep a
        key in :attr:`_keys` no larger than their current one, and the smallest entry whose key
        is still current is the minimum over all groups (keys are distinct: circuit order breaks
        every tie). O(log of the groups) per choice, amortised, instead of O(groups)."""
        free, seen, dirty = self.free_comm, self._seen, self._dirty
        for j, comm in enumerate(free):
            if len(comm) > seen[j]:
                dirty.update(self._on_qpu[j])
            seen[j] = len(comm)
        keys = self._keys
        for ids in dirty:
            key = self._group_key(ids, waiting)
            if key is not None:
                heapq.heappush(keys, (key, ids))
        dirty.clear()
        while True:
            key, ids = keys[0]
            current = self._group_key(ids, waiting)
            if current == key:
                return self.groups[ids][0][1]
            if current is None:
                heapq.heappop(keys)
            else:
                heapq.heapreplace(keys, (current, ids))

    def _group_key(self, ids: tuple, waiting: dict[int, tuple]) -> tuple | None:
        """The current key of a group of waiting gates (see :meth:`_choose`), None when it has none left."""
        heap = self.groups.get(ids)
        if heap is None:
            return None
        wait_ids = self._wait_ids
        while heap and (heap[0][1] not in waiting or wait_ids[heap[0][1]] != ids):
            heapq.heappop(heap)  # run meanwhile, or waiting for other copies now
        if not heap:
            del self.groups[ids]
            needed = self._group_bursts.pop(ids)
            for j in self._group_qpus(needed):
                self._on_qpu[j].discard(ids)
            for b in needed:
                self._of_burst[id(b)].discard(ids)
            return None
        node_id = heap[0][1]
        missing = waiting[node_id]
        share = min(self.ready[id(b)] / len(self.remaining[id(b)]) for b in missing)
        return (not self._can_open_all(missing), -share, self.order[node_id])

    def _register(self, ids: tuple, missing: tuple) -> None:
        """Index a new group of waiting gates by its bursts and the QPUs its copies need."""
        self._group_bursts[ids] = missing
        for b in missing:
            self._of_burst.setdefault(id(b), set()).add(ids)
        for j in self._group_qpus(missing):
            self._on_qpu[j].add(ids)

    def _group_qpus(self, bursts: tuple) -> set[int]:
        qpus = set()
        for b in bursts:
            qpus.update(j for j, _ in self.needs[id(b)])
        return qpus

    def _server(self, node_id: int, burst: Burst) -> Burst | None:
        """The open copy that can serve this gate now: its own burst's, or another open copy of
        the same segment and QPU pair (from the same burst model), or None."""
        if id(burst) in self.copy_of:
            return burst
        own = self.key_of[id(burst)]
        if own is not None:
            other = self.open_by_key.get(own)
            if other is not None:
                return other
        for key in self.alternatives.get(node_id, ()):  # a two-qubit gate may use the other side's copy
            other = self.open_by_key.get(key)
            if other is not None:
                return other
        return None

    @staticmethod
    def _key(burst: Burst, model) -> tuple | None:
        if burst.model is not model or burst.segment is None:
            return None
        return (Side(burst.qubit, burst.basis, burst.segment), burst.remote)

    def _can_open_all(self, bursts: tuple) -> bool:
        if len(bursts) == 1:  # the common case, from the burst's precomputed needs
            free = self.free_comm
            return all(len(free[j]) >= n for j, n in self.needs[id(bursts[0])])
        held = [0] * len(self.qpus)  # comm qubits the copies hold
        for b in bursts:
            held[b.remote] += 1
        if not all(len(self.free_comm[j]) >= n for j, n in enumerate(held)):
            return False
        for b in bursts:  # the home end and the relays need theirs only while the ebit is made
            passing = [0] * len(self.qpus)
            passing[b.home] += 1
            for r in self.routes[b.home, b.remote].relays:
                passing[r] += 2
            if not all(len(self.free_comm[j]) >= held[j] + n for j, n in enumerate(passing) if n):
                return False
        return True

    def _new_bit(self, qpu: int) -> Clbit:
        bit = Clbit()
        self.bits[qpu].append(bit)
        return bit

    def _take_comm(self, qpu: int, keep: tuple = ()):
        if not self.free_comm[qpu]:
            victims = [b for b in self.open_on[qpu].values() if all(b is not k for k in keep)]
            if not victims:
                raise DQCError(f"QPU '{self.qpus[qpu].name}' has too few comm qubits for one telegate")
            victim = max(victims, key=lambda b: (not self.ready[id(b)], self.order[self.remaining[id(b)][0]]))
            self._close(victim)
            self.split += 1
            number = self.number[id(victim)]
            self.reopened[number] = self.reopened.get(number, 0) + 1
        return self.free_comm[qpu].pop(0)

    def _open(self, burst: Burst, keep: tuple = ()) -> None:
        remote_comm = self._take_comm(burst.remote, keep)
        self.copy_of[id(burst)] = remote_comm  # reserve before the home side may evict
        self.open_on[burst.remote][id(burst)] = burst
        home_comm = self._take_comm(burst.home, keep + (burst,))
        route = self.routes[burst.home, burst.remote]
        relays = tuple((self._take_comm(r, keep + (burst,)), self._take_comm(r, keep + (burst,))) for r in route.relays)
        if not self.dry:
            cat_entangle(
                self.recorder, self.data[burst.qubit], home_comm, remote_comm, self._new_bit(burst.home), burst.basis,
                relays, tuple((self._new_bit(r), self._new_bit(r)) for r in route.relays),
            )
        for r, (inner, outer) in zip(route.relays, relays):
            self.free_comm[r][:0] = [inner, outer]
        self.free_comm[burst.home].insert(0, home_comm)
        self.ebits += route.hops
        self.swaps += len(route.relays)
        self.open_of_qubit.setdefault(burst.qubit, {})[id(burst)] = burst
        key = self.key_of[id(burst)]
        if key is not None:
            self.open_by_key[key] = burst
        self.opened += 1

    def _close(self, burst: Burst) -> None:
        remote_comm = self.copy_of.pop(id(burst))
        if not self.dry:
            cat_disentangle(
                self.recorder, self.data[burst.qubit], remote_comm, self._new_bit(burst.remote), burst.basis,
                framed=id(burst) in self.framed,
            )
        self.framed.discard(id(burst))
        self.free_comm[burst.remote].insert(0, remote_comm)
        del self.open_on[burst.remote][id(burst)]
        del self.open_of_qubit[burst.qubit][id(burst)]
        key = self.key_of[id(burst)]
        if key is not None and self.open_by_key.get(key) is burst:
            del self.open_by_key[key]
        self.closed += 1

    def _embed(self, node, burst: Burst, embedded) -> None:
        """Keep an open Z copy valid across an operation of a Hadamard sandwich (:mod:`dqc_compiler.embedding`)."""
        if embedded.remote is not None and embedded.remote != burst.remote:
            raise TranspilerError(
                f"'{node.name}' is embedded for QPU {embedded.remote}, not for a copy on QPU {burst.remote}"
            )
        if embedded.kind == "enter":
            self.framed.add(id(burst))
        elif embedded.kind == "leave":
            self.framed.discard(id(burst))
        elif not self.dry and any(embedded.flips):
            control = self.data[embedded.control] if embedded.control is not None else None
            correct_copy(self.recorder, self.copy_of[id(burst)], embedded.flips, control)

    def _emit(self, node) -> None:
        indices = self.structure.qubits[node._node_id]
        planned = self.bursts_of.get(node._node_id, [])
        servers: list[Burst] = []
        if not planned:
            if len({self.parts[i] for i in indices}) > 1:
                raise TranspilerError(f"nonlocal gate '{node.name}' on {indices} belongs to no burst")
        for burst in planned:
            server = self._server(node._node_id, burst)
            if server is None:
                self._open(burst, keep=tuple(servers))
                server = burst
            servers.append(server)
        copies = {s.qubit: self.copy_of[id(s)] for s in servers}
        qargs = tuple(copies.get(i, self.data[i]) for i in indices)
        if not self.dry:
            self.recorder.apply_operation_back(node.op, qargs, node.cargs)
        for position, i in enumerate(indices):
            if i in copies:
                continue
            for other in list(self.open_of_qubit.get(i, {}).values()):
                embedded = other.model.embedding.get((node._node_id, i)) if other.model is not None else None
                if embedded is not None and other.basis == "Z":
                    self._embed(node, other, embedded)
                    continue
                role = self.structure.roles_at.get((node._node_id, position))
                if role is None:
                    role = self.structure.roles_at[node._node_id, position] = role_of(node, position, memo=self.roles)
                role = role.of(other.basis)
                if role == "flip" and not self.dry:
                    flip_copy(self.recorder, self.copy_of[id(other)], other.basis)
                elif role == "break":
                    raise TranspilerError(f"'{node.name}' on qubit {i} breaks an open cat-entangled copy of it")
        for burst in planned:
            remaining = self.remaining[id(burst)]
            remaining.remove(node._node_id)
            if not remaining and id(burst) in self.copy_of:
                self._close(burst)
