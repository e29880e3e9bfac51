"""The burst model: where a cat-entangled copy of a qubit stays valid, and which copies can serve each gate.

A cat-entangled copy of qubit ``q`` in basis ``Z`` (or ``X``) stays valid while every operation on
``q`` is block-diagonal in that basis (it *keeps* the copy) or block-anti-diagonal (it *flips* the
copy: the copy takes an ``x`` — a ``z`` for the ``X`` basis — and stays valid; the embedding of
Wu et al., Quantum 7, 1196 (2023)). Any other operation ends the copy's *segment*. A nonlocal
two-qubit gate can be served by a copy of either of its qubits, in a basis that gate is controlled
in, on the other qubit's QPU. Choosing the fewest copies (``Side`` + remote QPU) that serve every
nonlocal gate is a minimum vertex cover; its graph is bipartite (an edge always joins a copy from
QPU ``a`` to ``b`` with one from ``b`` to ``a``), so König's theorem solves it exactly.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from qiskit.circuit import Gate, Qubit
from qiskit.circuit.library import HGate
from qiskit.dagcircuit import DAGCircuit, DAGOpNode

from .conditions import body_gate
from .errors import DQCError
from .gates import matrix, node_key, op_key

_ATOL = 1e-9
_H = HGate().to_matrix()


@dataclass(frozen=True, order=True)
class Side:
    """A copy of input qubit ``qubit`` in ``basis`` (``"Z"`` or ``"X"``) during its ``segment``-th segment."""

    qubit: int
    basis: str
    segment: int


@dataclass
class Role:
    """What one operation does to a copy of one of its qubits, per basis: ``"keep"``, ``"flip"`` or ``"break"``."""

    z: str
    x: str

    def of(self, basis: str) -> str:
        return self.z if basis == "Z" else self.x


@dataclass
class GateOptions:
    """A two-qubit gate (DAG node id ``node``, input qubits ``qubits``) and the copies that can serve it."""

    node: int
    qubits: tuple[int, int]
    sides: tuple[Side | None, Side | None]


@dataclass
class BurstModel:
    """Segments of every qubit and the serving options of every two-qubit gate, in topological order."""

    roles: dict[tuple[int, int], Role]  # (node id, input qubit) -> role
    gates: list[GateOptions]  # two-qubit gates
    order: dict[int, int]  # node id -> topological position
    multi: list[GateOptions] = field(default_factory=list)  # gates on three or more qubits
    sides: list[Side] = field(default_factory=list)  # every side some gate can use, by id
    compact: list[tuple[int, int, int, int, int]] = field(default_factory=list)  # (node, a, b, side id a, side id b)
    compact_multi: list[tuple[int, tuple, tuple]] = field(default_factory=list)  # (node, qubits, side ids)
    #: (node id, input qubit) -> what a Z copy needs across a Hadamard sandwich (see :mod:`dqc_compiler.embedding`)
    embedding: dict = field(default_factory=dict)

    def compact_array(self) -> np.ndarray:
        """:attr:`compact` as an integer array (one row per two-qubit gate), built once."""
        found = self.__dict__.get("_compact_array")
        if found is None or len(found) != len(self.compact):
            found = np.array(self.compact, dtype=np.int64).reshape(-1, 5)
            self.__dict__["_compact_array"] = found
        return found

    def __post_init__(self):
        ids: dict[Side, int] = {}

        def side_id(side: Side | None) -> int:
            if side is None:
                return -1
            if side not in ids:
                ids[side] = len(self.sides)
                self.sides.append(side)
            return ids[side]

        for gate in self.gates:
            self.compact.append((gate.node, *gate.qubits, *(side_id(s) for s in gate.sides)))
        for gate in self.multi:
            self.compact_multi.append((gate.node, gate.qubits, tuple(side_id(s) for s in gate.sides)))


def _block_structure(m: np.ndarray, position: int) -> str:
    """``keep`` if ``m`` is block-diagonal on qubit ``position`` (little-endian), ``flip`` if
    block-anti-diagonal, else ``break``."""
    bit = 1 << position
    rows, cols = np.nonzero(np.abs(m) > _ATOL)
    same = (rows & bit) == (cols & bit)
    if np.all(same):
        return "keep"
    if not np.any(same):
        return "flip"
    return "break"


def _conjugate_h(m: np.ndarray, position: int, num_qubits: int) -> np.ndarray:
    """``H_p m H_p`` for the qubit at ``position``."""
    if num_qubits == 1:  # the Kronecker product below would be ``[[1.0]] x H``, i.e. H itself
        return _H @ m @ _H
    h = np.array([[1.0]])
    for p in reversed(range(num_qubits)):
        h = np.kron(h, _H if p == position else np.eye(2))
    return h @ m @ h


def role_of(node: DAGOpNode, position: int, embed: bool = True, memo: dict | None = None) -> Role:
    """The role of ``node`` for copies of its qubit at ``position``. Without ``embed``, flips break.

    ``memo`` (the caller's dict, e.g. :attr:`CircuitModel.roles`) keeps roles per gate kind
    (:func:`~dqc_compiler.gates.node_key`), position and ``embed``; there is no module-level cache.
    """
    if memo is None:
        return _role(node, position, embed)
    key = (_kind(node), position, embed)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _role(node, position, embed)
    return found





def _kind(node: DAGOpNode) -> tuple:
    """The memo key of an operation's roles: :func:`~dqc_compiler.gates.node_key`, or that of the
    gate of a lowered ``if`` (its blocks have no key of their own)."""
    if node.name == "if_else":
        return ("if_else", op_key(body_gate(node.op)))
    return node_key(node)


def _role(node: DAGOpNode, position: int, embed: bool) -> Role:
    """A reset breaks every copy of its qubit. A measurement breaks an X copy and keeps a Z copy:
    ``a|0>|0> + b|1>|1>`` measured on the first qubit stays a copy of the outcome, and the
    disentangler's ``z`` correction on the measured qubit is then a phase under a classical
    condition (tests/test_dynamic_inputs.py verifies such outputs). A conditioned gate keeps a
    copy when its gate does; a flip is not embedded under a condition (the copy would need the
    condition bit on its QPU), it breaks."""
    if node.name == "reset":
        return Role("break", "break")
    if node.name == "measure":
        return Role("keep", "break")
    op = node.op
    if node.name == "if_else":
        op, embed = body_gate(op), False
    m = matrix(op)
    n = op.num_qubits
    z = _block_structure(m, position)
    x = _block_structure(_conjugate_h(m, position, n), position)
    if not embed or n > 1:  # only one-qubit gates are embedded
        z = "break" if z == "flip" else z
        x = "break" if x == "flip" else x
    return Role(z, x)


def build_model(dag: DAGCircuit, bases: tuple[str, ...] = ("Z", "X"), embed: bool = True) -> BurstModel:
    """Walk every qubit's wire, cut it into segments per basis, and list the options of each 2q gate.

    Not cached: within a pipeline, :class:`CircuitModel` (in the ``property_set``) keeps each model
    of a DAG once built.
    """
    return _build_model(dag, tuple(bases), embed, {})


class DagIndex:
    """The parts of a DAG every walk over it needs: op nodes by id, a topological position per node,
    and which operations must wait for which (dry runs walk one DAG many times).

    The order to respect is the DAG's, relaxed where operations commute on a wire: consecutive
    operations on one qubit that all keep a copy in the same basis (``Z``: diagonal on it, such as
    ``cz``, ``cp``, ``rz``, ``cx`` controls; ``X``: ``cx`` targets, ``rx``) and not in the other form
    a *run*, and commute on that qubit. Two gates that, on every qubit they share, keep the same
    basis commute. So an operation waits only until every operation of the run before its
    own on each of its wires is done. Anything else (a gate that keeps both bases or neither, a
    non-unitary operation, classical wires) is a run of its own, so its order is the DAG's. The
    runs never mix operations of two segments of a qubit, so segments and copies are the same in
    every order this allows.

    ``runs``: run id -> its number of operations; ``member_of``: node id -> the runs it belongs
    to (one per wire); ``releases``: run id -> the node ids that wait for it; ``waits``: node id
    -> how many runs it waits for. ``relaxed=False`` keeps the DAG's order exactly (every run one
    operation).
    """

    def __init__(self, dag: DAGCircuit, roles: dict | None = None, relaxed: bool = True):
        self.nodes: dict[int, DAGOpNode] = {}
        self.order: dict[int, int] = {}
        #: node id -> the input qubit indices of its operands (node.qargs builds a tuple per read)
        self.qubits: dict[int, tuple[int, ...]] = {}
        #: (node id, position) -> :func:`role_of` the node there (filled by the walks as they ask)
        self.roles_at: dict[tuple[int, int], Role] = {}
        index = {q: i for i, q in enumerate(dag.qubits)}
        for i, node in enumerate(dag.topological_op_nodes()):
            self.nodes[node._node_id] = node
            self.order[node._node_id] = i
            self.qubits[node._node_id] = tuple(index[q] for q in node.qargs)
        self.runs: list[int] = []
        self.releases: list[list[int]] = []
        self.member_of: dict[int, list[int]] = {node_id: [] for node_id in self.nodes}
        self.waits: dict[int, int] = dict.fromkeys(self.nodes, 0)
        roles = {} if roles is None else roles
        for wire in dag.wires:
            previous = current = kind = None
            for node in dag.nodes_on_wire(wire, only_ops=True):
                found = _run_kind(node, wire, roles) if relaxed and isinstance(wire, Qubit) else None
                if found is None or found != kind:
                    previous, current, kind = current, len(self.runs), found
                    self.runs.append(0)
                    self.releases.append([])
                self.runs[current] += 1
                self.member_of[node._node_id].append(current)
                if previous is not None:
                    self.releases[previous].append(node._node_id)
                    self.waits[node._node_id] += 1


def _run_kind(node: DAGOpNode, wire, roles: dict) -> str | None:
    """``"Z"`` or ``"X"``: the basis in which ``node`` keeps a copy of ``wire`` (and not in the
    other); None when it must keep its place in the DAG's order on that wire."""
    if node.cargs or node.is_parameterized():
        return None
    if not node.is_standard_gate() and not isinstance(node.op, Gate):  # node.op builds an object: last
        return None
    role = role_of(node, node.qargs.index(wire), memo=roles)
    if (role.z == "keep") == (role.x == "keep"):
        return None
    return "Z" if role.z == "keep" else "X"


#: The ``property_set`` key of the :class:`CircuitModel` of the DAG being compiled.
MODEL_KEY = "dqc_model"


class CircuitModel:
    """What the optimisation core derives from one DAG, each part built at most once: its burst
    models (per ``bases`` and ``embed``) and its :class:`DagIndex`.

    One lives in the pass manager's ``property_set`` under :data:`MODEL_KEY` (see :meth:`of`), so
    that the partitioner's dry runs, the burst grouping and the insertion share it; a pass that
    replaces the DAG (commutation) stores the model of the new one. It belongs to one DAG, which
    must not be changed while the model is in use.
    """

    def __init__(self, dag: DAGCircuit):
        self.dag = dag
        self._size = dag.size(recurse=True)
        self._bursts: dict[tuple, BurstModel] = {}
        self._index: DagIndex | None = None
        self._strict_index: DagIndex | None = None
        #: Roles of gate kinds (see :func:`role_of`), shared by everything that reads this DAG.
        self.roles: dict[tuple, Role] = {}
        #: Groupings already chosen for this DAG by :func:`~dqc_compiler.passes.bursts.best_bursts`:
        #: (partition, id(network), settings) -> (network, bursts). The partitioner measures its
        #: finalists with it and leaves the winner's here, so ``GroupBursts`` does not redo it.
        self.grouped: dict[tuple, tuple] = {}
        #: The last partition's serving options of the planner's walks (see :func:`dqc_compiler.planner.plan`).
        self.plan_options: tuple | None = None

    @classmethod
    def of(cls, property_set, dag: DAGCircuit) -> "CircuitModel":
        """The model of ``dag`` in ``property_set`` (``None`` allowed), built and stored if it has none for ``dag``."""
        found = property_set[MODEL_KEY] if property_set is not None else None
        if found is None or not found.describes(dag):
            found = cls(dag)
            if property_set is not None:
                property_set[MODEL_KEY] = found
        return found

    def describes(self, dag: DAGCircuit) -> bool:
        """Whether this is the model of ``dag`` as it is now."""
        return self.dag is dag and self._size == dag.size(recurse=True)

    def bursts(self, bases: tuple[str, ...] = ("Z", "X"), embed: bool = True) -> BurstModel:
        """The :class:`BurstModel` of the DAG (see :func:`build_model`)."""
        key = (tuple(bases), embed)
        if key not in self._bursts:
            self._bursts[key] = _build_model(self.dag, *key, self.roles)
        return self._bursts[key]

    @property
    def index(self) -> DagIndex:
        """The :class:`DagIndex` of the DAG (commuting runs relaxed)."""
        if self._index is None:
            self._index = DagIndex(self.dag, self.roles)
        return self._index

    @property
    def strict_index(self) -> DagIndex:
        """The :class:`DagIndex` that keeps the DAG's own order (``relaxed=False``)."""
        if self._strict_index is None:
            self._strict_index = DagIndex(self.dag, self.roles, relaxed=False)
        return self._strict_index


def _build_model(dag: DAGCircuit, bases: tuple[str, ...], embed: bool, memo: dict) -> BurstModel:
    index = {q: dag.find_bit(q).index for q in dag.qubits}
    order = {node._node_id: i for i, node in enumerate(dag.topological_op_nodes())}
    roles: dict[tuple[int, int], Role] = {}
    segment_of: dict[tuple[int, int], dict[str, int]] = {}
    kinds: dict[int, tuple] = {}  # node id -> its memo key (:func:`_kind`), computed once per node
    for qubit in dag.qubits:
        q = index[qubit]
        counters = {"Z": 0, "X": 0}
        for node in dag.nodes_on_wire(qubit, only_ops=True):
            qargs = node.qargs
            position = qargs.index(qubit) if len(qargs) > 1 else 0
            kind = kinds.get(node._node_id)
            if kind is None:
                kind = kinds[node._node_id] = _kind(node)
            role = memo.get((kind, position, embed))
            if role is None:
                role = memo[kind, position, embed] = _role(node, position, embed)
            roles[(node._node_id, q)] = role
            current = {}
            for basis in ("Z", "X"):
                if role.of(basis) == "break":
                    counters[basis] += 1
                else:
                    current[basis] = counters[basis]
            segment_of[(node._node_id, q)] = current
    gates, multi = [], []
    for node in dag.topological_op_nodes():
        if len(node.qargs) < 2:
            continue
        qubits = tuple(index[q] for q in node.qargs)
        sides = []
        for q in qubits:
            role = roles[(node._node_id, q)]
            side = None
            for basis in bases:
                if role.of(basis) == "keep":
                    side = Side(q, basis, segment_of[(node._node_id, q)][basis])
                    break
            sides.append(side)
        (gates if len(qubits) == 2 else multi).append(GateOptions(node._node_id, qubits, tuple(sides)))
    return BurstModel(roles, gates, order, multi)


@dataclass
class Burst:
    """Gates between input qubit ``qubit`` (living on QPU ``home``) and qubits of QPU ``remote``.

    One ebit gives QPU ``remote`` a cat-entangled copy of ``qubit`` in the ``basis`` (``"Z"`` or
    ``"X"``); every gate in ``nodes`` (node ids, ``DAGOpNode._node_id``, of the DAG the bursts were
    found in, in topological order) is then applied on ``remote`` with the copy standing in for
    ``qubit``. Each gate is controlled on ``qubit`` in that basis, and every other operation on
    ``qubit`` from the first gate to the last keeps the copy valid (see :mod:`dqc_compiler.segments`).
    """

    qubit: int
    home: int
    remote: int
    nodes: list[int] = field(default_factory=list)
    basis: str = "Z"
    segment: int | None = None  # the segment of ``qubit`` (see :class:`~dqc_compiler.segments.Side`), when known
    model: object = field(default=None, repr=False, compare=False)  # the BurstModel the segment refers to


@dataclass(frozen=True, order=True)
class Copy:
    """A chosen copy: ``side`` sent to QPU ``remote``. One ebit each (before comm-qubit limits)."""

    side: Side
    remote: int


def choose_copies(
    model: BurstModel,
    parts: list[int],
    joint: bool = True,
    orientation: int = 0,
    banned: frozenset = frozenset(),
    runs: dict[int, int] | None = None,
    short: float | None = None,
) -> dict[Copy, list[int]]:
    """The copies that serve every nonlocal gate, each with its gates (node ids, topological order).

    ``joint``: a minimum vertex cover over all gates (exact, König). Otherwise each gate takes the
    first of its qubits that can be shared (the fixed choice of simpler tools). Minimum covers are
    rarely unique: ``orientation`` 0 leans towards copies sent to higher-numbered QPUs, 1 towards
    lower-numbered ones (they can differ in how many copies must be open at once). ``banned``
    copies are used only for gates that no other copy can serve. ``runs`` (node id -> QPU, see
    :func:`best_runs`) says where gates on three or more qubits run; by default
    :func:`multi_qubit_copies` decides. ``short`` prefers copies that hold a comm qubit for less
    time (see :func:`min_vertex_cover`): each copy weighs ``short`` times the mean span of the
    copies plus its own span (the circuit positions from its first possible gate to its last),
    and the lightest cover is taken; ``math.inf`` keeps the cover minimum and only breaks ties.
    """
    k = max(parts) + 1
    side_ids = {side: i for i, side in enumerate(model.sides)}
    banned_ids = frozenset(side_ids[c.side] * k + c.remote for c in banned if c.side in side_ids)
    _, served = _cover(model, parts, joint, orientation, banned_ids, runs=runs, short=short, by_id=True)
    sides, order = model.sides, model.order.__getitem__
    return {Copy(sides[c // k], c % k): sorted(nodes, key=order) for c, nodes in served.items()}


def _cover(
    model: BurstModel,
    parts: list[int],
    joint: bool,
    orientation: int = 0,
    banned: frozenset = frozenset(),
    count_only: bool = False,
    runs: dict[int, int] | None = None,
    weight=None,
    short: float | None = None,
    by_id: bool = False,
):
    """Chosen copies as ``(side, remote)`` tuples, and the copy serving each nonlocal gate
    (with ``count_only``: the number of copies, or with ``weight[home][remote]`` their total
    weight, and None; with ``by_id``: the chosen copy ids ``side * k + remote`` and, per copy id,
    the gates it serves, two-qubit gates first in model order, then the wider ones)."""
    k = max(parts) + 1
    forced = set()
    multi_assignment = {}
    for node, qubits, sides in model.compact_multi:
        if runs and node in runs:
            needed = [(i, runs[node]) for i, q in enumerate(qubits) if parts[q] != runs[node]]
        else:
            needed = multi_qubit_copies(qubits, sides, parts)
        if needed:
            copies = [sides[i] * k + qpu for i, qpu in needed]
            forced.update(copies)
            multi_assignment[node] = copies
    edges = _cover_edges(model, parts, k, joint, orientation, banned, forced)
    adjacency: dict = {}
    for u, v, left in edges:
        if u in forced or v in forced:
            continue
        if not left:
            u, v = v, u
        adjacency.setdefault(u, []).append(v)
    spans = _spans(model, parts, k) if short is not None else None
    chosen = forced | min_vertex_cover(adjacency, spans, short)
    if count_only:
        if weight is None:
            return len(chosen), None
        return sum(weight[parts[model.sides[c // k].qubit]][c % k] for c in chosen), None
    if by_id:
        served: dict[int, list[int]] = {}
        table = model.compact_array()
        where = np.asarray(parts, dtype=np.int64)
        pa, pb = where[table[:, 1]], where[table[:, 2]]
        nonlocal_ = pa != pb
        pa, pb, sa, sb = pa[nonlocal_], pb[nonlocal_], table[nonlocal_, 3], table[nonlocal_, 4]
        u = np.where(sa >= 0, sa * k + pb, -1)
        copy = np.where(np.isin(u, np.fromiter(chosen, dtype=np.int64, count=len(chosen))), u, sb * k + pa)
        for node, c in zip(table[nonlocal_, 0].tolist(), copy.tolist()):
            served.setdefault(c, []).append(node)
        for node, copies in multi_assignment.items():
            for c in copies:
                served.setdefault(c, []).append(node)
        return chosen, served
    assignment = {}
    for node, a, b, sa, sb in model.compact:
        pa, pb = parts[a], parts[b]
        if pa == pb:
            continue
        u = sa * k + pb if sa >= 0 else -1
        copy = u if u in chosen else sb * k + pa
        assignment[node] = [(model.sides[copy // k], copy % k)]
    for node, copies in multi_assignment.items():
        assignment[node] = [(model.sides[c // k], c % k) for c in copies]
    return {(model.sides[c // k], c % k) for c in chosen}, assignment


def _cover_edges(model: BurstModel, parts: list[int], k: int, joint: bool, orientation: int, banned: frozenset,
                 forced: set) -> list[tuple[int, int, bool]]:
    """The edges ``(u, v, left)`` of the cover graph in gate order (copy ids ``side * k + remote``;
    ``left``: whether ``u`` is on the left side), adding to ``forced`` the copies a gate has no
    alternative to. With numpy over every two-qubit gate at once (O(g)) unless copies are banned."""
    if banned:
        edges = []
        for node, a, b, sa, sb in model.compact:
            pa, pb = parts[a], parts[b]
            if pa == pb:
                continue
            u = sa * k + pb if sa >= 0 else -1
            v = sb * k + pa if sb >= 0 else -1
            if not joint and u >= 0:
                v = -1
            if u >= 0 and v >= 0 and (u in banned) != (v in banned):
                u, v = (-1, v) if u in banned else (u, -1)
            if u < 0 or v < 0:
                forced.add(max(u, v))
            else:
                edges.append((u, v, (pa < pb) != bool(orientation)))
        return edges
    table = model.compact_array()
    where = np.asarray(parts, dtype=np.int64)
    pa, pb = where[table[:, 1]], where[table[:, 2]]
    nonlocal_ = pa != pb
    pa, pb, sa, sb = pa[nonlocal_], pb[nonlocal_], table[nonlocal_, 3], table[nonlocal_, 4]
    u = np.where(sa >= 0, sa * k + pb, -1)
    v = np.where(sb >= 0, sb * k + pa, -1)
    if not joint:
        v = np.where(u >= 0, -1, v)
    alone = (u < 0) | (v < 0)
    forced.update(np.maximum(u[alone], v[alone]).tolist())
    both = ~alone
    left = (pa[both] < pb[both]) != bool(orientation)
    return list(zip(u[both].tolist(), v[both].tolist(), left.tolist()))


def minimum_cover(model: BurstModel, parts: list[int]) -> set[tuple[Side, int]]:
    """The copies ``(side, remote QPU)`` of a minimum cover of every nonlocal gate (before comm-qubit limits)."""
    return _cover(model, parts, joint=True)[0]


def multi_qubit_copies(qubits: tuple, sides: tuple, parts: list[int]) -> list[tuple[int, int]]:
    """Where a gate on three or more qubits runs by default, as ``[(position, QPU)]`` of the copies it needs.

    It runs on the QPU that holds most of its qubits (ties: the one of its last qubit, a ``ccx``
    target); every qubit elsewhere needs a copy there, so it must be controlled in some basis.
    Empty when the gate is local.
    """
    options = run_options(qubits, sides, parts)
    return options[0][1] if options else []


def run_options(qubits: tuple, sides: tuple, parts) -> list[tuple[int, list[tuple[int, int]]]]:
    """Every QPU holding one of a nonlocal multi-qubit gate's qubits where it can run, with the
    copies ``[(position, QPU)]`` it needs there (every qubit elsewhere must be controlled in some
    basis), the default of :func:`multi_qubit_copies` first. Empty when the gate is local."""
    where = [parts[q] for q in qubits]
    if len(set(where)) == 1:
        return []
    options = []
    for qpu in sorted(set(where), key=lambda j: (-where.count(j), j != where[-1], j)):
        if all(sides[i] >= 0 or where[i] == qpu for i in range(len(qubits))):
            options.append((qpu, [(i, qpu) for i in range(len(qubits)) if where[i] != qpu]))
    if not options:
        raise DQCError(
            f"a gate on qubits {list(qubits)} cannot run on one QPU: qubits it is not controlled on are on different QPUs"
        )
    return options


#: :func:`best_runs` scores every combination of run QPUs while (combinations x two-qubit gates)
#: stays within this much work, else chooses greedily.
RUN_WORK = 400_000


def best_runs(model: BurstModel, parts: list[int], work: int = RUN_WORK, weight=None) -> tuple[dict[int, int], bool]:
    """Where each nonlocal gate on three or more qubits should run for the fewest copies in all
    (node id -> QPU), and whether that is proven or a greedy choice. With ``weight[home][remote]``
    (e.g. link-level ebits per copy on a network that is not all-to-all) copies are weighed by it.

    Exact reductions first: gates on the same qubits with the same sides run together (a second
    place never saves a copy); a place whose copies include another place's copies is dropped; a
    place all of whose copies some two-qubit gate forces anyway is taken (adding copies to a cover
    never lowers its size by more than it adds). What is left is scored combination by combination
    with the exact cover while that is at most ``work``; otherwise each group, in turn, takes the
    place that adds fewest copies to those forced or chosen so far.
    """
    k = max(parts) + 1
    groups: dict[tuple, tuple[list, list[int]]] = {}
    for node, qubits, sides in model.compact_multi:
        options = run_options(qubits, sides, parts)
        if len(options) > 1:
            places = [(qpu, frozenset(sides[i] * k + r for i, r in needed)) for qpu, needed in options]
            groups.setdefault((qubits, sides), (places, []))[1].append(node)
    if not groups:
        return {}, True
    forced = set()  # copies two-qubit gates force whatever the places
    for _, a, b, sa, sb in model.compact:
        if parts[a] != parts[b] and (sa < 0) != (sb < 0):
            forced.add(sa * k + parts[b] if sa >= 0 else sb * k + parts[a])
    places, members = [], []
    for options, nodes in groups.values():
        kept = [o for o in options if not any(other[1] < o[1] for other in options)]
        kept = [o for i, o in enumerate(kept) if all(o[1] != other[1] for other in kept[:i])]
        free = [o for o in kept if o[1] <= forced]
        places.append(free[:1] or kept)
        members.append(nodes)

    def runs_of(choice) -> dict[int, int]:
        return {node: places[g][c][0] for g, c in enumerate(choice) for node in members[g]}

    def count(choice) -> int:
        return _cover(model, parts, True, count_only=True, runs=runs_of(choice), weight=weight)[0]

    total = 1
    for options in places:
        total *= len(options)
        if total * max(1, len(model.compact)) > work:
            break
    if total == 1:
        return runs_of([0] * len(places)), True
    if total * max(1, len(model.compact)) <= work:
        best = min(itertools.product(*(range(len(p)) for p in places)), key=count)
        return runs_of(best), True
    chosen, choice = set(forced), []
    for options in places:
        pick = min(range(len(options)), key=lambda c: sum(
            1 if weight is None else weight[parts[model.sides[i // k].qubit]][i % k] for i in options[c][1] - chosen))
        chosen |= options[pick][1]
        choice.append(pick)
    default = [0] * len(places)
    return runs_of(choice if count(choice) < count(default) else default), False


def min_copy_count(model: BurstModel, parts: list[int], work: int = RUN_WORK, weight=None) -> tuple[int, bool]:
    """:func:`copy_count` with every gate on three or more qubits run where it needs fewest copies
    (:func:`best_runs`; weighed by ``weight[home][remote]`` if given, and so is the count), and
    whether that count is exact."""
    runs, exact = best_runs(model, parts, work, weight)
    return _cover(model, parts, True, count_only=True, runs=runs, weight=weight)[0], exact


def _spans(model: BurstModel, parts: list[int], k: int) -> dict[int, int]:
    """Per possible copy (side id * k + remote QPU), the circuit positions its gates span."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for node, a, b, sa, sb in model.compact:
        if parts[a] == parts[b]:
            continue
        position = model.order[node]
        for side, other in ((sa, b), (sb, a)):
            if side >= 0:
                copy = side * k + parts[other]
                first[copy] = min(first.get(copy, position), position)
                last[copy] = max(last.get(copy, position), position)
    return {copy: last[copy] - first[copy] for copy in first}


def _lightest_cover(adjacency: dict, span: dict, short: float) -> set:
    """The vertex cover of a bipartite graph of least weight, a vertex weighing ``short`` times
    the mean span plus its ``span`` (with ``short`` infinite: more than all spans together, so
    the cover stays minimum): the source side of a minimum cut."""
    if not adjacency:
        return set()
    vertices = set(adjacency) | {v for vs in adjacency.values() for v in vs}
    total = sum(span.get(v, 0) for v in vertices)
    base = 1 + total if math.isinf(short) else max(1, round(short * total / len(vertices)))
    cover: set = set()
    for part in _components(adjacency):
        # a minimum cut splits along connected components (s cannot reach t once the flow is
        # maximum), so each is cut alone, in 32-bit capacities where they fit; with ``short``
        # infinite any base above the component's spans gives the same cuts as the global one
        if math.isinf(short):
            seen = set(part) | {v for vs in part.values() for v in vs}
            part_base = 1 + sum(span.get(v, 0) for v in seen)
        else:
            part_base = base
        found = _lightest_cover_scipy(part, span, part_base)
        cover |= found if found is not None else _lightest_cover_networkx(part, span, part_base)
    return cover


def _components(adjacency: dict) -> list[dict]:
    """The connected components of a bipartite graph ``left -> [right]``, each as its own adjacency."""
    owner: dict = {}  # right vertex -> the left vertex that first reached it
    parent: dict = {u: u for u in adjacency}

    def root(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for u, vs in adjacency.items():
        for v in vs:
            if v in owner:
                a, b = root(u), root(owner[v])
                if a != b:
                    parent[b] = a
            else:
                owner[v] = u
    parts: dict = {}
    for u, vs in adjacency.items():
        parts.setdefault(root(u), {})[u] = vs
    return list(parts.values())


def _lightest_cover_networkx(adjacency: dict, span: dict, base: int) -> set:
    """:func:`_lightest_cover`'s minimum cut with networkx (any capacities)."""
    graph = nx.DiGraph()
    for u, vs in adjacency.items():
        graph.add_edge("s", ("L", u), capacity=base + span.get(u, 0))
        for v in vs:
            graph.add_edge(("L", u), ("R", v))  # no capacity: infinite
            graph.add_edge(("R", v), "t", capacity=base + span.get(v, 0))
    _, (source_side, _) = nx.minimum_cut(graph, "s", "t")
    return {u for u in adjacency if ("L", u) not in source_side} | {
        v for vs in adjacency.values() for v in vs if ("R", v) in source_side
    }


def _lightest_cover_scipy(adjacency: dict, span: dict, base: int) -> set | None:
    """:func:`_lightest_cover`'s minimum cut with scipy's maximum flow (Dinic, in C), or None when
    the capacities could overflow its 32-bit integers (networkx then does it).

    The cut is the one networkx returns: its sink side is every vertex that can reach ``t`` in the
    residual graph, which is the same for every maximum flow (the smallest sink side of a minimum
    cut). A left-right edge weighs one more than its left vertex instead of infinity: a cut through
    it would cost more than cutting that vertex from the source, so the minimum cuts are the same.
    O(E sqrt(V)) for these unit-depth bipartite networks, against networkx's preflow push in Python."""
    from scipy.sparse import csr_array  # noqa: PLC0415
    from scipy.sparse.csgraph import breadth_first_order, maximum_flow  # noqa: PLC0415

    left = {u: 2 + i for i, u in enumerate(adjacency)}
    right: dict = {}
    for vs in adjacency.values():
        for v in vs:
            if v not in right:
                right[v] = 2 + len(left) + len(right)
    size = 2 + len(left) + len(right)
    weight_left = [base + span.get(u, 0) for u in left]
    weight_right = [base + span.get(v, 0) for v in right]
    if sum(weight_left) + max(weight_left) + 1 >= 2**31 - 1 or sum(weight_right) >= 2**31 - 1:
        return None
    rows = [0] * len(left) + list(right.values())
    cols = list(left.values()) + [1] * len(right)
    caps = weight_left + weight_right
    for (u, i), w in zip(left.items(), weight_left):
        for v in dict.fromkeys(adjacency[u]):
            rows.append(i)
            cols.append(right[v])
            caps.append(w + 1)
    capacity = csr_array((np.array(caps, dtype=np.int32), (rows, cols)), shape=(size, size))
    flow = maximum_flow(capacity, 0, 1).flow
    residual = (capacity - flow).tocsr()
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    reaches_sink = set(breadth_first_order(residual.T.tocsr(), 1, directed=True, return_predecessors=False).tolist())
    return {u for u, i in left.items() if i in reaches_sink} | {v for v, i in right.items() if i not in reaches_sink}


def min_vertex_cover(adjacency: dict, span: dict | None = None, short: float | None = None) -> set:
    """Minimum vertex cover of a bipartite graph given as ``left vertex -> [right vertices]``.

    With ``span`` (vertex -> span) and ``short``, the lightest cover instead (a minimum cut, see
    :func:`choose_copies`): copies that stay open for less time, so that fewer are open at once
    when comm qubits are few.

    Maximum matching by augmenting paths, then König's construction: the left vertices not
    reachable from an unmatched left vertex by alternating paths, plus the right ones that are.

    Hand-written on purpose: networkx's ``hopcroft_karp_matching`` + ``to_vertex_cover`` give the
    same cover (tests/test_passes_core.py checks them against each other) but, with the graph
    built per call, take about 2000 times as long (0.45 ms against 1 s on 150 copies), and the
    partitioner calls this once per evaluation of its local search.
    """
    if span is not None and short is not None:
        return _lightest_cover(adjacency, span, short)
    match_right: dict = {}
    match_left: dict = {}

    def augment(u, seen: set) -> bool:
        stack = [(u, iter(adjacency[u]))]
        path = []
        while stack:
            x, neighbours = stack[-1]
            advanced = False
            for v in neighbours:
                if v in seen:
                    continue
                seen.add(v)
                w = match_right.get(v)
                if w is None:
                    path.append((x, v))
                    for a, b in reversed(path):
                        match_left[a] = b
                        match_right[b] = a
                    return True
                path.append((x, v))
                stack.append((w, iter(adjacency[w])))
                advanced = True
                break
            if not advanced:
                stack.pop()
                if path:
                    path.pop()
        return False

    for u in adjacency:  # greedy start, then augment
        for v in adjacency[u]:
            if v not in match_right:
                match_left[u] = v
                match_right[v] = u
                break
    for u in adjacency:
        if u not in match_left:
            augment(u, set())
    reached_left, reached_right = set(), set()
    frontier = [u for u in adjacency if u not in match_left]
    reached_left.update(frontier)
    while frontier:
        u = frontier.pop()
        for v in adjacency[u]:
            if v not in reached_right:
                reached_right.add(v)
                w = match_right.get(v)
                if w is not None and w not in reached_left:
                    reached_left.add(w)
                    frontier.append(w)
    return {u for u in adjacency if u not in reached_left} | reached_right


def copy_count(
    model: BurstModel, parts: list[int], joint: bool = True, runs: dict[int, int] | None = None, weight=None
) -> int:
    """The ebits a partition costs under cat-entanglement (before comm-qubit limits); with
    ``weight[home][remote]``, e.g. link-level ebits per copy, the copies' total weight."""
    return _cover(model, parts, joint, count_only=True, runs=runs, weight=weight)[0]
