"""Hadamard embedding: a ``Z`` copy of a qubit lives on across a sandwich ``V1 · W · V2`` on it.

A cat-entangled ``Z`` copy ``c`` of qubit ``q`` holds ``sum_x a_x |x>_q |x>_c``. An opener ``V1``
with ``H · V1`` diagonal (``h``, or a diagonal gate then ``h``) turns it into
``sum_x a_x H|x>_q |x>_c``: ``c`` is now a copy of ``q`` *in the X basis* (the copy's *frame*).
Every gate ``G`` on ``q`` until the closer ``V2`` (``V2 · H`` diagonal) is then read in that frame,
``G' = H_q G H_q``, and is **embedded** when ``G'`` keeps or flips ``q`` in ``Z`` (block-diagonal
or block-anti-diagonal), possibly depending on the ``Z`` value of one other qubit ``r``:

- one-qubit ``G``: ``G'`` diagonal needs nothing; anti-diagonal needs ``x`` on the copy;
- two-qubit ``G`` on ``(q, r)``: ``G'`` must be block-diagonal on ``r``; its blocks ``A_0, A_1``
  on ``q`` each keep (``f_y = 0``) or flip (``f_y = 1``). The copy needs ``x^{f_r}``: nothing,
  ``x``, or ``cx r -> c`` (``f_0 != f_1``), which is local only where ``r`` lives on the copy's QPU.
  ``cz q, r`` is the case that matters: ``H cz H = cx r -> q``, so the copy takes ``cx r -> c``.

Proof sketch: with ``E|x> = |x>|x>`` the copy map, ``E D = D_q E`` for diagonal ``D`` and
``E X = X_q X_c E``, so ``E G' = (G' ⊗ C_rc) E`` with ``C = sum_y |y><y|_r ⊗ X_c^{f_y}``; ``C`` and
``G'`` commute (both block-diagonal on ``r``). ``V2`` maps the frame back. The copy cannot serve
gates inside the sandwich (they go to the other qubit's copy), and a copy closed inside it
measures ``c`` as usual but corrects ``q`` with ``x`` (``H Z H``). No classical bit crosses QPUs.

Whether a sandwich embeds depends on the partition (where each ``r`` with ``f_0 != f_1`` lives):
:func:`build_embedded_model` builds the burst model of one partition, where a copy of ``q`` to
QPU ``B`` keeps its segment across every sandwich that embeds for ``B``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit.circuit.library import HGate
from qiskit.dagcircuit import DAGCircuit, DAGOpNode

from .gates import matrix
from .segments import BurstModel, GateOptions, Side, _block_structure, _conjugate_h, role_of

_ATOL = 1e-9
_H = HGate().to_matrix()


@dataclass(frozen=True)
class Embedded:
    """What an operation in an embedded sandwich needs on a ``Z`` copy of its qubit.

    ``kind``: ``"enter"`` (the opener), ``"inner"`` or ``"leave"`` (the closer). ``flips``: for an
    inner gate, whether the copy takes an ``x`` when ``control`` (an input qubit, or None) is 0 and
    when it is 1. ``remote``: the only QPU a copy may be on to live through (None: any QPU).
    """

    kind: str
    remote: int | None = None
    control: int | None = None
    flips: tuple[int, int] = (0, 0)


def _plain_1q(node: DAGOpNode) -> bool:
    plain = node.name not in ("measure", "reset", "if_else", "delay", "barrier")
    return len(node.qargs) == 1 and not node.cargs and plain


def _is_diagonal(m: np.ndarray) -> bool:
    return bool(np.all(np.abs(m - np.diag(np.diag(m))) <= _ATOL))


def is_opener(node: DAGOpNode) -> bool:
    """A one-qubit gate ``V`` with ``H · V`` diagonal (it ends in a Hadamard), decided by matrix."""
    return _plain_1q(node) and _is_diagonal(_H @ matrix(node.op))


def is_closer(node: DAGOpNode) -> bool:
    """A one-qubit gate ``V`` with ``V · H`` diagonal (it starts with a Hadamard), decided by matrix."""
    return _plain_1q(node) and _is_diagonal(matrix(node.op) @ _H)


def inner_effect(node: DAGOpNode, position: int, memo: dict | None = None) -> tuple[int, tuple[int, int]] | None:
    """How gate ``node`` acts in the X frame of its qubit at ``position``: ``(other position or -1,
    (f_0, f_1))`` (see the module docstring), or None when it cannot be embedded."""
    if _plain_1q(node):
        x = role_of(node, position, True, memo).x
        if x == "break":
            return None
        f = int(x == "flip")
        return -1, (f, f)
    if len(node.qargs) != 2 or node.cargs or node.name in ("if_else", "barrier"):
        return None
    other = 1 - position
    conj = _conjugate_h(matrix(node.op), position, 2)
    if _block_structure(conj, other) != "keep":
        return None
    flips = []
    for y in (0, 1):
        idx = [(y << other) | (b << position) for b in (0, 1)]
        block = conj[np.ix_(idx, idx)]
        kind = _block_structure(block, 0)
        if kind == "break":
            return None
        flips.append(int(kind == "flip"))
    return other, (flips[0], flips[1])


def sandwiches(wire: list[DAGOpNode], qubit, q: int, index: dict, parts: list[int], claimed: set,
               memo: dict | None = None, served: list[int] | None = None) -> dict[int, Embedded]:
    """The embedded sandwiches on one qubit's wire (``q``: its input index), as wire position ->
    :class:`Embedded`. Two-qubit gates already inside another qubit's sandwich (``claimed``, node
    ids; updated) are not taken, so every gate keeps a copy that can serve it. ``served``: the
    wire's :func:`_served`, when the caller has it."""
    found: dict[int, Embedded] = {}
    served = _served(wire, qubit, q, index, parts, memo) if served is None else served
    i = 0
    while i < len(wire):
        if not is_opener(wire[i]) or not _reaches(served, found, range(i - 1, -1, -1)):
            i += 1
            continue
        inner, remotes, j = [], set(), i + 1
        while j < len(wire) and not is_closer(wire[j]):
            node = wire[j]
            effect = None if node._node_id in claimed else inner_effect(node, node.qargs.index(qubit), memo)
            if effect is None:
                break
            other, flips = effect
            control = index[node.qargs[other]] if other >= 0 else None
            if flips[0] != flips[1]:
                remotes.add(parts[control])
            inner.append((j, control, flips))
            j += 1
        if j >= len(wire) or not is_closer(wire[j]):
            i = max(j, i + 1)
            continue
        remote = next(iter(remotes)) if len(remotes) == 1 else None
        if len(remotes) > 1 or remote == parts[q]:
            i = j  # the closer may open the next sandwich
            continue
        found[i] = Embedded("enter", remote)
        for position, control, flips in inner:
            found[position] = Embedded("inner", remote, control, flips)
            if len(wire[position].qargs) == 2:
                claimed.add(wire[position]._node_id)
        found[j] = Embedded("leave", remote)
        i = j + 1
    return found


def find_sandwiches(dag: DAGCircuit, parts: list[int], memo: dict | None = None) -> list[dict]:
    """Every embeddable sandwich of ``dag`` under ``parts`` that a copy could use (a nonlocal gate
    its qubit could serve in ``Z`` comes before it and after it, with no breaking operation
    between), each as ``{(node id, input qubit): Embedded}``."""
    memo = {} if memo is None else memo
    index = {bit: dag.find_bit(bit).index for bit in dag.qubits}
    claimed: set = set()
    found = []
    for qubit in dag.qubits:
        q = index[qubit]
        wire = list(dag.nodes_on_wire(qubit, only_ops=True))
        served = _served(wire, qubit, q, index, parts, memo)  # (once per wire: it reads every role)
        entries = sandwiches(wire, qubit, q, index, parts, claimed, memo, served)
        starts = sorted(i for i, e in entries.items() if e.kind == "enter")
        for start in starts:
            end = next(j for j in range(start + 1, len(wire)) if entries.get(j, Embedded("x")).kind == "leave")
            before = _reaches(served, entries, range(start - 1, -1, -1))
            after = _reaches(served, entries, range(end + 1, len(wire)))
            if before and after:
                found.append({(wire[i]._node_id, q): entries[i] for i in range(start, end + 1)})
    return found


def _served(wire, qubit, q, index, parts, memo) -> list[int]:
    """Per wire position: -1 a break in Z, 1 a nonlocal gate a Z copy of the qubit serves, else 0."""
    served = []
    for node in wire:
        role = role_of(node, node.qargs.index(qubit), True, memo).z
        remote = any(parts[index[b]] != parts[q] for b in node.qargs)
        served.append(-1 if role == "break" else int(role == "keep" and remote and len(node.qargs) > 1))
    return served


def _reaches(served: list[int], entries: dict, positions) -> bool:
    """Whether a nonlocal gate a copy serves lies along ``positions`` before a break (other sandwiches are passed)."""
    for i in positions:
        if i in entries:
            continue
        if served[i] < 0:
            return False
        if served[i] > 0:
            return True
    return False


#: :func:`best_embedded_model` tries leaving sandwiches out while (trials x two-qubit gates) stays within this.
TRIAL_WORK = 20_000


def best_embedded_model(
    dag: DAGCircuit, parts: list[int], memo: dict | None = None, trials: int = 64
) -> BurstModel | None:
    """The embedded burst model whose sandwiches give the fewest copies: all useful ones
    (:func:`find_sandwiches`), then, for at most ``trials`` of them (fewer on large circuits,
    :data:`TRIAL_WORK`), each left out when that does not cost more (a sandwich takes its inner
    gates away from its qubit's copies). None when no sandwich helps."""
    from .segments import copy_count

    memo = {} if memo is None else memo
    found = find_sandwiches(dag, parts, memo)
    if not found:
        return None
    layout = _Layout(dag, memo)
    enabled = list(range(len(found)))

    def model_of(keep):
        return build_embedded_model(dag, parts, memo, {k: v for i in keep for k, v in found[i].items()}, layout)

    best = model_of(enabled)
    best_count = copy_count(best, parts)
    trials = min(trials, TRIAL_WORK // max(1, len(layout.multi_qubit)))
    for i in list(enabled)[:trials]:
        trial = [j for j in enabled if j != i]
        model = model_of(trial)
        count = copy_count(model, parts)
        if count <= best_count:
            enabled, best, best_count = trial, model, count
    return best if enabled else None


class _Layout:
    """What every embedded model of one DAG shares: qubit indices, topological positions, each
    wire's nodes with their roles, and the gates on two or more qubits."""

    def __init__(self, dag: DAGCircuit, memo: dict):
        index = {bit: dag.find_bit(bit).index for bit in dag.qubits}
        self.order = {node._node_id: i for i, node in enumerate(dag.topological_op_nodes())}
        self.roles = {}
        self.wires = []
        for qubit in dag.qubits:
            q = index[qubit]
            wire = []
            for node in dag.nodes_on_wire(qubit, only_ops=True):
                key = (node._node_id, q)
                self.roles[key] = role_of(node, node.qargs.index(qubit), True, memo)
                wire.append(key)
            self.wires.append(wire)
        self.multi_qubit = [
            (node._node_id, tuple(index[b] for b in node.qargs))
            for node in dag.topological_op_nodes() if len(node.qargs) > 1
        ]


def build_embedded_model(
    dag: DAGCircuit, parts: list[int], memo: dict | None, embedding: dict, layout: _Layout | None = None
) -> BurstModel:
    """The burst model (bases Z and X, one-qubit flips embedded) of ``dag`` under partition
    ``parts`` with the Hadamard sandwiches of ``embedding`` (``{(node id, input qubit):
    Embedded}``): a ``Z`` copy of ``q`` to QPU ``B`` keeps its segment across every sandwich that
    embeds for ``B``. ``BurstModel.embedding`` is what the planner applies to open copies."""
    layout = layout if layout is not None else _Layout(dag, {} if memo is None else memo)
    roles = layout.roles
    x_segment, z_state = {}, {}
    for wire in layout.wires:
        hard, soft, x_count, inside = 0, [], 0, False
        for key in wire:
            role = roles[key]
            if role.x == "break":
                x_count += 1
            elif not inside:
                x_segment[key] = x_count
            entry = embedding.get(key)
            if entry is not None:
                if entry.kind == "enter":
                    soft.append(entry.remote)
                inside = entry.kind != "leave"
            elif role.z == "break":
                hard, soft = hard + 1, []
            else:
                z_state[key] = (hard, tuple(soft))
    segment_ids: dict[tuple, int] = {}

    def z_side(q: int, state, remote: int | None) -> Side:
        hard, soft = state
        restricted = [s for s in soft if s is not None]
        if remote is None:
            key = (q, hard, 0) if not restricted else (q, hard, "multi", len(restricted))
        else:
            key = (q, hard, sum(s != remote for s in restricted))
        return Side(q, "Z", segment_ids.setdefault(key, len(segment_ids)))

    gates, multi = [], []
    for node_id, qubits in layout.multi_qubit:
        sides = []
        for position, q in enumerate(qubits):
            key = (node_id, q)
            role, side = roles[key], None
            if role.z == "keep" and key in z_state:
                remote = parts[qubits[1 - position]] if len(qubits) == 2 else None
                side = z_side(q, z_state[key], remote)
            elif role.x == "keep" and key in x_segment:
                side = Side(q, "X", x_segment[key])
            sides.append(side)
        (gates if len(qubits) == 2 else multi).append(GateOptions(node_id, qubits, tuple(sides)))
    return BurstModel(dict(roles), gates, dict(layout.order), multi, embedding=dict(embedding))
