"""Group nonlocal two-qubit gates into bursts: each burst is served by one cat-entangled copy."""

from __future__ import annotations

import math

from qiskit.dagcircuit import DAGCircuit, DAGOpNode
from qiskit.transpiler.basepasses import AnalysisPass

from ..embedding import best_embedded_model
from ..errors import DQCError
from ..network import Network
from ..placement import distances
from ..planner import plan
from ..segments import (  # noqa: F401 - Burst is re-exported: passes.bursts.Burst is its documented home
    Burst, CircuitModel, Copy, Side, best_runs, choose_copies, copy_count, multi_qubit_copies, role_of,
)
from ..settings import LevelSettings, settings_for


#: Candidates per round of the comm-pressure repair (the rounds are ``LevelSettings.relief_rounds``).
RELIEF_TRIALS = 3
#: The ``short`` of the extra cover candidates under comm-qubit limits (see
#: :func:`~dqc_compiler.segments.choose_copies`): a minimum cover of the shortest copies, and a
#: cover that gives up copies for shorter ones.
SHORT = (math.inf, 3.0)


class GroupBursts(AnalysisPass):
    """Set ``property_set["dqc_bursts"]`` from ``dqc_partition``.

    ``level`` 0 gives every nonlocal two-qubit gate a burst of its own (one telegate per nonlocal
    gate, the baseline every distribution compiler must beat); the shared qubit is one the gate is
    controlled on, decided from its matrix. ``level`` 1 lets one copy serve every gate of its
    segment, sharing the first qubit each gate is controlled on in the ``Z`` basis. ``level`` 2 and
    up choose the shared qubit of every gate jointly (a minimum vertex cover, exact), also share
    qubits in the ``X`` basis (``cx`` targets), and let copies live across anti-diagonal one-qubit
    gates (embedding). Given the ``network``, they also dry-run the protocol insertion for two
    minimum covers, for the level 1 and level 0 groupings and, when gates on three qubits span
    QPUs, for a minimum cover with each of them run on the QPU that needs fewest copies in all
    (:func:`~dqc_compiler.segments.best_runs`) and, when the cheapest of these still splits bursts,
    for two covers of copies that hold their comm qubit for less time (:data:`SHORT`), and keep the
    one that really costs fewest ebits once comm-qubit limits have split bursts. With ``embed_h``
    they also dry-run the two minimum covers of the partition's Hadamard-embedding model
    (:mod:`dqc_compiler.embedding`), taken only when strictly cheaper than the best other one.

    The level's choices come from ``settings`` (:class:`~dqc_compiler.settings.LevelSettings`:
    ``grouping``, ``x_basis``, ``embed``, ``embed_h``, ``dry_run_candidates``, ``relief_rounds``); without
    them, from ``level``.

    Complexity (g gates): levels 0-1 O(g); level 2-3 a bounded number of covers (O(g) plus a
    bipartite matching each) and dry runs (O(g log g) each) — none at all when the partitioner has
    already measured this partition (its grouping is kept on the circuit model and reused).
    """

    def __init__(self, level: int = 2, network: Network | None = None, settings: LevelSettings | None = None):
        super().__init__()
        self.settings = settings if settings is not None else settings_for(min(level, 3))
        self.network = network

    def run(self, dag: DAGCircuit) -> None:
        parts = self.property_set["dqc_partition"]
        settings = self.settings
        circuit = CircuitModel.of(self.property_set, dag)
        if settings.grouping == "per_gate":
            bursts = one_burst_per_gate(dag, parts, circuit.roles)
        elif settings.grouping == "cover" and settings.dry_run_candidates and self.network is not None:
            found = circuit.grouped.get((tuple(parts), id(self.network), settings))
            if found is not None and found[0] is self.network:  # the partitioner measured it already
                bursts = found[1]
            else:
                bursts = best_bursts(dag, parts, self.network, settings, circuit)[0]
        else:
            model = circuit.bursts(settings.bases, settings.embed)
            joint = settings.grouping == "cover"
            bursts = to_bursts(model, choose_copies(model, parts, joint=joint), parts)
        self.property_set["dqc_bursts"] = bursts

def best_bursts(
    dag: DAGCircuit,
    parts: list[int],
    network: Network,
    settings: LevelSettings | int = 2,
    circuit: CircuitModel | None = None,
    bound: int | None = None,
):
    """The cheapest bursts for this partition once comm-qubit limits are taken into account, and
    the dry run (``ebits``: link-level ebits) that measured them. See :class:`GroupBursts`.
    ``settings`` may be given as a level number; ``circuit`` is the model of ``dag`` (built when not given).

    ``bound``: the caller only wants a grouping of at most that many ebits. Dry runs stop there, and
    when every plain candidate (those before the Hadamard-embedding ones) spends more, the search
    stops and returns one of them with its unfinished walk (``complete`` False, ``ebits`` above
    ``bound``); the repair and the embedding candidates, which might have gone below it, are not
    tried. Otherwise the result is what it is without ``bound``.

    Cost: a handful of covers (O(g) each plus a bipartite matching) and dry runs (O(g log g) each,
    see :func:`~dqc_compiler.planner.plan`), g the number of gates."""
    if isinstance(settings, int):
        settings = settings_for(min(settings, 3))
    circuit = circuit if circuit is not None and circuit.describes(dag) else CircuitModel(dag)
    model = circuit.bursts()
    candidates = [to_bursts(model, choose_copies(model, parts, orientation=o), parts) for o in (0, 1)]
    simple = circuit.bursts(("Z",), embed=False)
    candidates.append(to_bursts(simple, choose_copies(simple, parts, joint=False), parts))
    candidates.append(one_burst_per_gate(dag, parts, circuit.roles))
    runs = [None] * len(candidates)
    # gates on three qubits run where they need fewest copies and, when routes differ in length,
    # where they need fewest link-level ebits (the weights of the certified optimum)
    for weight in (None,) if network.is_uniform() else (None, distances(network)):
        moved, _ = best_runs(model, parts, weight=weight)
        if moved and moved not in runs and (
            copy_count(model, parts, runs=moved, weight=weight) < copy_count(model, parts, weight=weight)
        ):
            candidates.append(to_bursts(model, choose_copies(model, parts, runs=moved), parts))
            runs.append(moved)
    # a dry run stops once it is worse than the best so far (it cannot be chosen), and a candidate
    # with the very bursts of an earlier one shares its walk (ties go to the earlier one anyway)
    walks: list = []
    measured: dict[tuple, object] = {}

    def measure(bursts: list[Burst], limit: int | None):
        key = tuple((b.qubit, b.home, b.remote, tuple(b.nodes), b.basis, b.segment, id(b.model)) for b in bursts)
        if key not in measured:
            measured[key] = plan(dag, bursts, parts, network, model=circuit, limit=limit)
        return measured[key]

    def bound_() -> int | None:  # the plain candidates so far: a walk that spends more than their best loses
        limits = [w.ebits + 1 for w in walks] + ([] if bound is None else [bound + 1])
        return min(limits) if limits else None

    for bursts in candidates:
        walks.append(measure(bursts, bound_()))
    if bound is not None and min(w.ebits for w in walks) > bound:  # lost to the caller's bound
        return candidates[0], walks[0]
    if min(walks, key=lambda w: w.ebits).split:  # comm qubits ran short: also covers of copies that close sooner
        for short in SHORT:
            candidates.append(to_bursts(model, choose_copies(model, parts, short=short), parts))
            runs.append(None)
            walks.append(measure(candidates[-1], bound_()))
    models = [model] * len(candidates)
    models[2] = simple
    plain = len(candidates)  # candidates from here on embed Hadamard sandwiches: they win only by fewer ebits
    if settings.embed_h:  # Hadamard embedding depends on the partition: its own model
        embedded = best_embedded_model(dag, parts, circuit.roles)
        if embedded is not None:
            plain_best = min(w.ebits for w in walks)  # an embedding candidate wins only below it
            for o in (0, 1):
                candidates.append(to_bursts(embedded, choose_copies(embedded, parts, orientation=o), parts))
                runs.append(None)
                models.append(embedded)
                limit = min([plain_best] + [w.ebits + 1 for w in walks[plain:]])
                walks.append(measure(candidates[-1], limit))
    # ties go to fewer X-basis copies (plain telegates read more easily), then to the earlier candidate;
    # the best embedding candidate replaces the best other one only when it ends up strictly cheaper
    chosen = None
    for group in (range(plain), range(plain, len(candidates))):
        if not group:
            continue
        best = min(group, key=lambda i: (walks[i].ebits, sum(b.basis == "X" for b in candidates[i]), i))
        if chosen is not None and walks[best].ebits >= chosen[1].ebits:
            continue
        bursts, walk = candidates[best], walks[best]
        if walk.split and (best < 2 or best >= 4):
            bursts, walk = _relieve(
                circuit, parts, bursts, walk, network, settings.relief_rounds, runs[best], models[best]
            )
        if chosen is None or walk.ebits < chosen[1].ebits:
            chosen = (bursts, walk)
    return chosen


def _relieve(
    circuit: CircuitModel, parts: list[int], bursts: list[Burst], walk, network: Network, rounds: int, runs=None,
    model=None,
):
    """Greedy repair for comm-qubit pressure: ban the copy that was reopened most (its gates go
    to the other qubit's copies), keep the change if it really costs fewer ebits, repeat, for at
    most ``rounds`` rounds. ``model``: the burst model the bursts come from (default: the circuit's)."""
    model = model if model is not None else circuit.bursts()
    banned: frozenset = frozenset()
    best_cost = walk.ebits
    for _ in range(rounds):
        ranked = sorted(walk.reopened.items(), key=lambda item: -item[1])[:RELIEF_TRIALS]
        found = None
        trials = []
        for number, _ in ranked:
            burst = bursts[number]
            trials.append({Copy(Side(burst.qubit, burst.basis, burst.segment), burst.remote)})
            trials.append({  # every copy of that qubit to that QPU
                Copy(side, burst.remote) for side in model.sides if side.qubit == burst.qubit
            })
        for extra in trials:
            trial_banned = banned | extra
            trial = to_bursts(model, choose_copies(model, parts, banned=trial_banned, runs=runs), parts)
            limit = best_cost if found is None else min(best_cost, found[0])  # a walk past it cannot win
            trial_walk = plan(circuit.dag, trial, parts, network, model=circuit, limit=limit)
            if trial_walk.ebits < best_cost and (found is None or trial_walk.ebits < found[0]):
                found = (trial_walk.ebits, trial_banned, trial, trial_walk)
        if found is None:
            break
        best_cost, banned, bursts, walk = found
        if not walk.split:
            break
    return bursts, walk


def to_bursts(model, copies, parts: list[int]) -> list[Burst]:
    """Bursts for chosen copies, ordered by their first gate."""
    return [
        Burst(c.side.qubit, parts[c.side.qubit], c.remote, nodes, c.side.basis, c.side.segment, model)
        for c, nodes in sorted(copies.items(), key=lambda item: model.order[item[1][0]])
    ]


def one_burst_per_gate(dag: DAGCircuit, parts: list[int], memo: dict | None = None) -> list[Burst]:
    """A burst for every nonlocal two-qubit gate, sharing a qubit the gate is controlled on (and,
    for a gate kept whole on three qubits, one per qubit away from the QPU that applies it).
    ``memo``: roles already known (:attr:`~dqc_compiler.segments.CircuitModel.roles`)."""
    bursts = []
    for node in dag.topological_op_nodes():
        if len(node.qargs) < 2:
            continue
        qubits = [dag.find_bit(q).index for q in node.qargs]
        if len(qubits) > 2:
            sides = []
            for position, q in enumerate(qubits):
                role = role_of(node, position, memo=memo)
                sides.append(0 if role.z == "keep" else 1 if role.x == "keep" else -1)
            for position, qpu in multi_qubit_copies(tuple(qubits), tuple(sides), parts):
                q = qubits[position]
                bursts.append(Burst(q, parts[q], qpu, [node._node_id], "Z" if sides[position] == 0 else "X"))
            continue
        a, b = qubits
        if parts[a] == parts[b]:
            continue
        position = shared_position(node, memo)
        shared, other = (a, b) if position == 0 else (b, a)
        bursts.append(Burst(shared, parts[shared], parts[other], [node._node_id]))
    return bursts


def shared_position(node: DAGOpNode, memo: dict | None = None) -> int:
    """The qubit position (0 or 1) a telegate can share for this gate: one the gate is controlled on."""
    for position in (0, 1):
        if role_of(node, position, memo=memo).z == "keep":  # block-diagonal: controlled on that qubit
            return position
    raise DQCError(f"gate '{node.op.name}' is controlled on neither qubit; it should have been decomposed")
