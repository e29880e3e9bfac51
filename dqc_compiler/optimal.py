"""Certified minimum ebit count for small circuits: qubit placement and copy choice as MaxSAT (python-sat)."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field, replace

import networkx as nx
from pysat.card import CardEnc, EncType, ITotalizer
from pysat.examples.rc2 import RC2
from pysat.formula import WCNF, IDPool
from pysat.solvers import Solver
from qiskit import QuantumCircuit
from qiskit.converters import circuit_to_dag, dag_to_circuit
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler import PassManager

from .errors import DQCError
from .network import Network
from .segments import BurstModel, build_model, min_copy_count, run_options

logger = logging.getLogger(__name__)

#: The SAT solver behind both phases (CaDiCaL 1.9.5: assumptions, phases, interruption).
SOLVER = "cadical195"
#: ``optimum`` methods; ``hybrid`` enumerates when that is cheap, else gives the descent this
#: share of the time limit and RC2 the rest.
METHODS = ("hybrid", "enumerate", "descend", "rc2")
DESCEND_SHARE = 0.75
#: ``hybrid`` enumerates when (placements up to symmetry) x (gates) is at most this much work.
ENUMERATE_WORK = 3_000_000
#: Time-limited SAT calls run in slices of conflicts, aimed at this many seconds each.
SLICE_CONFLICTS, SLICE_SECONDS = 2000, 0.25
#: The weight of a copy that cannot be made: more than any sum of possible copies.
UNREACHABLE = 1 << 40


@dataclass
class OptimumResult:
    """The best partition found and what is proven about it.

    ``ebits`` is the link-level ebit count of ``partition`` (every copy costs the hops of the route
    the compiler makes it along, :meth:`~dqc_compiler.network.Network.copy_cost`) with gates on
    three qubits run where they need fewest (:func:`~dqc_compiler.segments.min_copy_count`);
    ``lower_bound`` is a proven lower bound on every partition's count; ``proven`` means the two
    meet, so ``ebits`` is the minimum over all placements the network allows.
    ``heuristic_ebits`` is the warm start's count (None if it needed a missing link).
    """

    partition: list[int]
    ebits: int
    lower_bound: int
    proven: bool
    seconds: float
    heuristic_ebits: int | None = None
    time_limit: float | None = None
    solver: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The report's ``optimum`` object."""
        return {
            "ebits": self.ebits,
            "lower_bound": self.lower_bound,
            "proven": self.proven,
            "seconds": round(self.seconds, 3),
            "heuristic_ebits": self.heuristic_ebits,
            "time_limit": self.time_limit,
        }


def prepare(circuit: QuantumCircuit, network: Network | None = None) -> DAGCircuit:
    """The DAG the level-2 partitioner sees: input checked, final measurements and swaps set
    aside, gates normalised with ``ccx``/``ccz`` kept whole where the compiler keeps them whole on
    ``network`` (:func:`~dqc_compiler.pipeline.keeps_multi`; always without a network)."""
    from .passes import AbsorbFinalSwaps, CheckSupportedInput, Normalise, SplitFinalMeasurements  # noqa: PLC0415
    from .pipeline import keeps_multi  # noqa: PLC0415
    from .settings import settings_for  # noqa: PLC0415

    keep = network is None or keeps_multi(settings_for(2), network)
    front = [CheckSupportedInput(), SplitFinalMeasurements(), AbsorbFinalSwaps(), Normalise(keep_multi=keep)]
    manager = PassManager(front)
    return circuit_to_dag(manager.run(circuit))


def heuristic_partition(dag: DAGCircuit, network: Network, seed: int | None = None, level: int = 3) -> list[int]:
    """The partition the compiler's own partitioner picks at ``level`` (the warm start), given as
    many comm qubits as the circuit has qubits on every QPU that has any (the model's assumption)."""
    from .passes import BuildInteractionGraph, PartitionQubits  # noqa: PLC0415

    roomy = Network(
        [replace(q, comm_qubits=max(q.comm_qubits, dag.num_qubits()) if q.comm_qubits else 0) for q in network.qpus],
        list(network.links),
    )
    manager = PassManager([BuildInteractionGraph(), PartitionQubits(roomy, seed=seed, level=level)])
    manager.run(dag_to_circuit(dag))
    return list(manager.property_set["dqc_partition"])


@dataclass
class Encoding:
    """Hard clauses over ``x[q][p]`` (qubit q on QPU p) and ``c[(s, p)]`` (side s copied to p);
    ``softs`` are the literals whose truth costs one link-level ebit each (a copy, and one more
    for every hop of its route past the first)."""

    pool: IDPool
    hard: list[list[int]]
    x: dict[int, dict[int, int]]  # interacting qubit -> QPU -> variable
    c: dict[tuple[int, int], int]  # (side id, QPU) -> variable
    qubits: list[int]  # the interacting qubits, in order
    softs: list[int] = field(default_factory=list)


def interacting_qubits(model: BurstModel) -> list[int]:
    """Qubits that take part in some gate on two or more qubits."""
    found = {q for _, a, b, _, _ in model.compact for q in (a, b)}
    found.update(q for _, qubits, _ in model.compact_multi for q in qubits)
    return sorted(found)


def cost_table(network: Network) -> list[list[int | None]]:
    """``table[home][remote]``: link-level ebits one copy costs (None: it cannot be made), by the
    compiler's own rule, :meth:`~dqc_compiler.network.Network.copy_cost` (routes with relays)."""
    k = network.num_qpus
    return [[network.copy_cost(a, b) for b in range(k)] for a in range(k)]


def weights(table: list[list[int | None]]) -> list[list[int]]:
    """``table`` with impossible copies priced out of reach, for the cover's weighted count."""
    return [[UNREACHABLE if w is None else w for w in row] for row in table]



def usable_pair(network: Network, home: int, remote: int) -> bool:
    """Whether a copy can go from ``home`` to ``remote`` (:meth:`Network.copy_cost` is not None)."""
    return home != remote and network.copy_cost(home, remote) is not None


def twin_classes(network: Network) -> list[list[int]]:
    """Classes of QPUs that any permutation may exchange without changing a solution's cost:
    same capacity, and exchanging the two leaves every copy's cost (:func:`cost_table`) unchanged."""
    k = network.num_qpus
    table = cost_table(network)

    def twins(i: int, j: int) -> bool:
        swap = {i: j, j: i}
        return network.qpus[i].data_qubits == network.qpus[j].data_qubits and all(
            table[a][b] == table[swap.get(a, a)][swap.get(b, b)] for a in range(k) for b in range(k)
        )

    classes: list[list[int]] = []
    for i in range(k):
        for members in classes:
            if all(twins(i, j) for j in members):
                members.append(i)
                break
        else:
            classes.append([i])
    return classes


def encode(model: BurstModel, network: Network, symmetry: bool = True) -> Encoding:
    """The hard part of the MaxSAT instance; the soft part is ``¬c`` for every copy variable.

    * every interacting qubit on exactly one QPU, no QPU over its ``data_qubits``;
    * a nonlocal two-qubit gate between ``a`` on ``pa`` and ``b`` on ``pb`` is served by a copy of
      ``a``'s side sent to ``pb`` or of ``b``'s side sent to ``pa`` (the sides that exist);
    * a gate kept whole on three qubits runs on a QPU that holds one of its qubits, with a copy
      there of every qubit placed elsewhere (its side must exist): the free choice
      :func:`~dqc_compiler.segments.best_runs` makes for a given placement;
    * copies only where :meth:`~dqc_compiler.network.Network.copy_cost` allows one (comm qubits at
      both ends, a route whose relays have two comm qubits each); a copy costs its route's hops:
      soft literal ``c`` for the first, and ``e_j`` (forced by ``c`` and a home ``j`` or more hops
      away) for every further one, so that the descent and RC2 keep unit weights;
    * symmetry breaking: within a class of interchangeable QPUs (:func:`twin_classes`), QPU
      ``j+1`` holds a qubit only if QPU ``j`` holds an earlier one (value precedence).
    """
    pool = IDPool()
    hard: list[list[int]] = []
    k = network.num_qpus
    qpus = [p for p in range(k) if network.qpus[p].data_qubits > 0]
    qubits = interacting_qubits(model)
    x = {q: {p: pool.id(("x", q, p)) for p in qpus} for q in qubits}
    for q in qubits:
        lits = list(x[q].values())
        hard.append(lits)
        kind = EncType.pairwise if len(lits) <= 6 else EncType.seqcounter
        hard.extend(CardEnc.atmost(lits, 1, vpool=pool, encoding=kind).clauses)
    for p in qpus:
        capacity = network.qpus[p].data_qubits
        if capacity < len(qubits):
            lits = [x[q][p] for q in qubits]
            hard.extend(CardEnc.atmost(lits, capacity, vpool=pool, encoding=EncType.seqcounter).clauses)
    side_qubit = {i: s.qubit for i, s in enumerate(model.sides)}
    c: dict[tuple[int, int], int] = {}

    def copy(side: int, remote: int) -> int | None:
        if side < 0 or network.qpus[remote].comm_qubits == 0:
            return None
        key = (side, remote)
        if key not in c:
            c[key] = pool.id(("c", side, remote))
        return c[key]

    seen = set()
    for _, a, b, sa, sb in model.compact:
        if (a, b, sa, sb) in seen:
            continue
        seen.add((a, b, sa, sb))
        for pa, pb in itertools.permutations(qpus, 2):
            clause = [-x[a][pa], -x[b][pb]]
            clause += [lit for lit in (copy(sa, pb), copy(sb, pa)) if lit is not None]
            hard.append(clause)
    for _, gate_qubits, sides in model.compact_multi:
        if (gate_qubits, sides) in seen:
            continue
        seen.add((gate_qubits, sides))
        runs = {r: pool.id(("run", gate_qubits, sides, r)) for r in qpus}  # where the gate runs
        hard.append(list(runs.values()))
        for r, run in runs.items():
            hard.append([-run] + [x[q][r] for q in gate_qubits])  # on a QPU holding one of its qubits
            for q, side in zip(gate_qubits, sides):
                for p in qpus:
                    if p != r:
                        lit = copy(side, r)
                        hard.append([-run, -x[q][p]] + ([lit] if lit is not None else []))
    table = cost_table(network)
    softs = list(c.values())
    for (side, remote), lit in c.items():
        q = side_qubit[side]
        for home in qpus:
            if home == remote or table[home][remote] is None:
                hard.append([-lit, -x[q][home]])
        far = max((table[home][remote] for home in qpus if home != remote and table[home][remote] is not None), default=1)
        for hop in range(2, far + 1):  # e: "this copy takes at least `hop` link-level ebits"
            extra = pool.id(("e", side, remote, hop))
            softs.append(extra)
            for home in qpus:
                if home != remote and (table[home][remote] or 0) >= hop:
                    hard.append([-lit, -x[q][home], extra])
    if symmetry:
        for members in twin_classes(network):
            members = [p for p in members if p in qpus]
            for low, high in zip(members, members[1:]):
                hard.append([-x[qubits[0]][high]])
                for i in range(1, len(qubits)):
                    # used[i-1] = "some qubit before position i sits on low"
                    used = pool.id(("used", low, i - 1))
                    hard.append([-x[qubits[i]][high], used])
                    hard.append([-used] + [x[qubits[j]][low] for j in range(i)])
    return Encoding(pool, hard, x, c, qubits, softs)


def decode(encoding: Encoding, assignment: list[int], n: int, network: Network) -> list[int]:
    """The partition a SAT model gives, with the qubits outside every gate put into free space."""
    true = {lit for lit in assignment if lit > 0}
    parts = [-1] * n
    for q in encoding.qubits:
        parts[q] = next(p for p, var in encoding.x[q].items() if var in true)
    return fill_idle(parts, network)


def fill_idle(parts: list[int], network: Network) -> list[int]:
    """Put every unplaced qubit (``-1``) on the first QPU with room, preferring QPUs already used."""
    parts = list(parts)
    load = [parts.count(p) for p in range(network.num_qpus)]
    order = sorted(range(network.num_qpus), key=lambda p: (load[p] == 0, p))
    for q, p in enumerate(parts):
        if p >= 0:
            continue
        target = next(j for j in order if load[j] < network.qpus[j].data_qubits)
        parts[q] = target
        load[target] += 1
    return parts


def component_bound(model: BurstModel, network: Network) -> int:
    """A lower bound valid for every placement: a connected group of interacting qubits spread over
    ``j`` QPUs needs ``j - 1`` copies to join them (each copy joins two), and it is spread over at
    least as many QPUs as it takes the largest capacities to hold it."""
    graph = nx.Graph()
    graph.add_nodes_from(interacting_qubits(model))
    graph.add_edges_from((a, b) for _, a, b, _, _ in model.compact)
    for _, qubits, _ in model.compact_multi:
        graph.add_edges_from(zip(qubits, qubits[1:]))
    capacities = sorted((q.data_qubits for q in network.qpus), reverse=True)
    bound = 0
    for component in nx.connected_components(graph):
        held, spread = 0, 0
        while held < len(component) and spread < len(capacities):
            held += capacities[spread]
            spread += 1
        bound += spread - 1
    return bound


class _Deadline:
    """Interrupts a solver when the time limit passes."""

    def __init__(self, deadline: float | None):
        self.deadline = deadline

    def left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def share(self, fraction: float) -> "_Deadline":
        """A deadline ``fraction`` of the way from now to this one."""
        left = self.left()
        return _Deadline(None if left is None else time.monotonic() + fraction * max(0.0, left))

    def solve(self, solver: Solver, assumptions: list[int]) -> bool | None:
        """``solver.solve(assumptions)``, in slices of conflicts until the deadline (CaDiCaL cannot
        be interrupted from outside); None when time ran out."""
        if self.deadline is None:
            return solver.solve(assumptions=assumptions)
        budget = SLICE_CONFLICTS
        while (left := self.left()) > 0:
            began = time.monotonic()
            solver.conf_budget(budget)
            status = solver.solve_limited(assumptions=assumptions)
            if status is not None:
                return status
            spent = max(time.monotonic() - began, 1e-3)  # aim each slice at ~SLICE_SECONDS
            budget = max(100, int(budget * min(4.0, min(SLICE_SECONDS, left) / spent)))
        return None

    def run(self, target, call):
        """``call()`` with ``target.interrupt()`` scheduled at the deadline."""
        left = self.left()
        if left is not None and left <= 0:
            return None
        timer = None if left is None else threading.Timer(left, target.interrupt)
        if timer:
            timer.daemon = True
            timer.start()
        try:
            return call()
        finally:
            if timer:
                timer.cancel()


def feasible(model: BurstModel, parts: list[int], network: Network) -> bool:
    """Whether ``parts`` fits the capacities and every copy it needs can be made
    (:meth:`~dqc_compiler.network.Network.copy_cost`)."""
    if any(parts.count(p) > q.data_qubits for p, q in enumerate(network.qpus)):
        return False
    for _, a, b, _, _ in model.compact:
        if parts[a] != parts[b] and not usable_pair(network, parts[a], parts[b]):
            return False
    for _, qubits, sides in model.compact_multi:
        try:
            options = run_options(qubits, sides, parts)
        except DQCError:
            return False
        linked = [all(usable_pair(network, parts[qubits[i]], r) for i, _ in needed) for r, needed in options]
        if options and not any(linked):
            return False
    return True


def placements(qubits: list[int], n: int, network: Network, classes: list[list[int]]):
    """Every placement of ``qubits`` within the capacities, one per class of placements that
    exchanging interchangeable QPUs maps onto each other (a QPU of a class is used only after the
    one before it: the value precedence of :func:`encode`). Yields the same list, updated; other
    qubits are ``-1``."""
    k = network.num_qpus
    capacity = [q.data_qubits for q in network.qpus]
    before = [None] * k
    for members in classes:
        for low, high in zip(members, members[1:]):
            before[high] = low
    load = [0] * k
    parts = [-1] * n

    def place(i: int):
        if i == len(qubits):
            yield parts
            return
        for p in range(k):
            if load[p] < capacity[p] and (before[p] is None or load[before[p]] > 0):
                parts[qubits[i]] = p
                load[p] += 1
                yield from place(i + 1)
                load[p] -= 1
        parts[qubits[i]] = -1

    return place(0)


def count_placements(qubits: list[int], n: int, network: Network, classes: list[list[int]], cap: int) -> int:
    """How many placements :func:`placements` yields, counting no further than ``cap + 1``."""
    total = 0
    for _ in placements(qubits, n, network, classes):
        total += 1
        if total > cap:
            break
    return total


def canonical(parts: list[int], qubits: list[int], classes: list[list[int]]) -> list[int]:
    """``parts`` with the QPUs of each class renamed in order of first use by ``qubits`` (the
    representative the symmetry breaking of :func:`encode` keeps; the copy count is unchanged)."""
    rename = {}
    for members in classes:
        first = sorted(members, key=lambda p: next((i for i, q in enumerate(qubits) if parts[q] == p), len(qubits)))
        rename.update(zip(first, sorted(members)))
    return [rename.get(p, p) for p in parts]


def optimum(
    circuit_or_dag: QuantumCircuit | DAGCircuit,
    network: Network,
    time_limit: float | None = None,
    warm_start: list[int] | None = None,
    seed: int | None = None,
    method: str = "hybrid",
) -> OptimumResult:
    """The fewest ebits any placement of the qubits on ``network`` needs, with a proof, or the best
    found and a lower bound when ``time_limit`` (seconds) runs out first.

    The cost model is the compiler's own at optimisation level 2 (:mod:`dqc_compiler.segments`):
    one copy per distinct (segment side, remote QPU), costing the link-level ebits of the route
    the compiler makes it along (:meth:`~dqc_compiler.network.Network.copy_cost`: relays need two
    comm qubits), so ``ebits`` is what the report's ``cost.ebits`` counts when comm qubits do not
    limit how many copies are open at once; no teledata, gate order as given (no commutation), no
    Hadamard embedding (:mod:`dqc_compiler.embedding`: the compiler may go below this optimum). A
    :class:`~qiskit.QuantumCircuit` goes through the level-2 front passes first (:func:`prepare`);
    a DAG is taken as already normalised. ``warm_start`` is a partition to start from (default:
    the level-3 partitioner's choice, :func:`heuristic_partition`); its count is the first upper bound.

    Search (``method``): ``"descend"`` asks a SAT solver (CaDiCaL, phases set to the warm start)
    for a placement with fewer copies than the best so far, through an incremental totalizer
    over the copy variables, until a bound is unsatisfiable: that proves the optimum.
    ``"rc2"`` runs the core-guided MaxSAT solver RC2, whose cores raise a lower bound as it goes.
    ``"enumerate"`` scores every placement up to symmetry with the exact cover (a proof by
    exhaustion). ``"hybrid"`` (default) enumerates when that is little work (:data:`ENUMERATE_WORK`),
    else descends; either gets 3/4 of the time limit, and RC2 what is left, for a better lower
    bound when the first did not finish.
    """
    if method not in METHODS:
        raise DQCError(f"unknown method '{method}' (choose from {', '.join(METHODS)})")
    if time_limit is not None and not time_limit > 0:
        raise DQCError(f"the time limit must be a positive number of seconds, got {time_limit}")
    start = time.monotonic()
    deadline = _Deadline(None if time_limit is None else start + time_limit)
    dag = circuit_or_dag if isinstance(circuit_or_dag, DAGCircuit) else prepare(circuit_or_dag, network)
    n = dag.num_qubits()
    if n > network.capacity:
        raise DQCError(f"the circuit has {n} qubits but the network holds only {network.capacity} data qubits")
    model = build_model(dag)
    if warm_start is None:
        try:
            warm_start = heuristic_partition(dag, network, seed=seed)
        except DQCError as exc:  # e.g. its dry run needs a link the network lacks: start from nothing
            logger.info("optimum: no heuristic warm start (%s)", exc)
            warm_start = fill_idle([-1] * n, network)
    if len(warm_start) != n or any(not 0 <= p < network.num_qpus for p in warm_start):
        raise DQCError(f"warm start must give a QPU index for each of the {n} qubits")
    state = {"parts": None, "ebits": None, "inexact": False}
    priced = weights(cost_table(network))

    def improve(parts: list[int], shown: int | None = None) -> None:
        """Keep ``parts`` if it beats the best so far; ``shown``: a count a SAT model proves reachable."""
        value, exact = min_copy_count(model, parts, weight=priced) if parts else (0, True)
        state["inexact"] |= not exact
        if value >= UNREACHABLE and shown is None:  # a greedy run choice needs a copy no route makes
            return
        if shown is not None:
            value = min(value, shown)
        if state["ebits"] is None or value < state["ebits"]:
            state.update(parts=list(parts), ebits=value)
            logger.info("optimum: %d ebits after %.2fs", value, time.monotonic() - start)

    if feasible(model, warm_start, network):
        improve(warm_start)
    lower = component_bound(model, network)
    info = {"name": SOLVER, "method": method, "upper_start": state["ebits"], "lower_start": lower}
    if state["ebits"] is not None and lower >= state["ebits"]:
        info["method"] = "bound"  # the warm start meets the component bound
        return _result(state, lower, start, info, time_limit)
    classes = twin_classes(network)
    qubits = interacting_qubits(model)
    work = max(1, len(model.compact) + len(model.compact_multi))
    cheap = method == "hybrid" and count_placements(qubits, n, network, classes, ENUMERATE_WORK // work) * work <= ENUMERATE_WORK
    if method == "enumerate" or cheap:
        info["method"] = "enumerate"
        share = deadline if method == "enumerate" else deadline.share(DESCEND_SHARE)
        complete = _enumerate(model, network, qubits, n, classes, share, improve)
        if complete and not state["inexact"]:  # every placement scored exactly
            if state["ebits"] is None:
                raise DQCError("no placement on this network lets every nonlocal gate use a link")
            return _result(state, state["ebits"], start, info, time_limit)
        if method == "enumerate" or state["ebits"] is None:
            if state["ebits"] is None:
                raise DQCError("no placement found within the time limit")
            return _result(state, lower, start, info, time_limit)
        # out of time: RC2 raises the lower bound in what is left; some Toffoli places chosen
        # greedily: no proof yet, the MaxSAT search takes over
        method = "rc2" if not complete else "hybrid"
        info["method"] = f"enumerate+{method}"
    encoding = encode(model, network)
    softs = encoding.softs
    info.update(variables=encoding.pool.top, clauses=len(encoding.hard), copies=len(softs))
    logger.info("optimum: %d qubits, %d copy variables, %d clauses; bounds [%d, %s]",
                len(encoding.qubits), len(softs), len(encoding.hard), lower, state["ebits"])
    phases = canonical(warm_start, encoding.qubits, classes)

    def on_model(assignment: list[int]) -> None:
        true = {lit for lit in assignment if lit > 0}
        improve(decode(encoding, assignment, n, network), sum(var in true for var in softs))

    if method in ("descend", "hybrid"):
        share = deadline if method == "descend" else deadline.share(DESCEND_SHARE)
        lower = _descend(encoding, softs, share, lower, phases, on_model, lambda: state["ebits"])
    if method in ("rc2", "hybrid") and (state["ebits"] is None or lower < state["ebits"]):
        bound, found = _core_guided(encoding, softs, deadline)
        lower = max(lower, bound)
        if found is not None:
            on_model(found)
    if state["ebits"] is None:
        if lower > len(softs):
            raise DQCError("no placement on this network lets every nonlocal gate use a link")
        raise DQCError("no placement found within the time limit (the heuristic's needs copies over missing links)")
    return _result(state, lower, start, info, time_limit)


def _result(state: dict, lower: int, start: float, info: dict, time_limit: float | None) -> OptimumResult:
    lower = min(lower, state["ebits"])
    return OptimumResult(state["parts"], state["ebits"], lower, lower >= state["ebits"], time.monotonic() - start,
                         info["upper_start"], time_limit, info)


def _enumerate(model: BurstModel, network: Network, qubits: list[int], n: int, classes, deadline: _Deadline,
               improve) -> bool:
    """Score every placement up to symmetry (:func:`placements`); True if all were seen in time."""
    for seen, parts in enumerate(placements(qubits, n, network, classes)):
        if seen % 64 == 0 and (left := deadline.left()) is not None and left <= 0:
            return False
        full = fill_idle(parts, network)
        if feasible(model, full, network):
            improve(full)
    return True


class _TimedRC2(RC2):
    """RC2 that stops at a deadline and remembers the last cost it proved: every oracle call
    starts from a cost backed by cores of completed calls, so ``proven`` is a valid lower bound
    even when the call after it is cut short."""

    def __init__(self, formula: WCNF, deadline: _Deadline, **options):
        super().__init__(formula, **options)
        self.deadline = deadline
        self.proven = 0

    def _call_oracle(self, assumptions=[], expect_interrupt=False):  # noqa: B006 - RC2's signature
        left = self.deadline.left()
        if left is not None and left <= 0:
            raise TimeoutError
        self.proven = max(self.proven, self.cost)
        return super()._call_oracle(assumptions=assumptions, expect_interrupt=expect_interrupt)


def _core_guided(encoding: Encoding, softs: list[int], deadline: _Deadline) -> tuple[int, list[int] | None]:
    """RC2 until the deadline: the lower bound its cores prove, and an optimal model if it finishes."""
    formula = WCNF()
    for clause in encoding.hard:
        formula.append(clause)
    for lit in softs:
        formula.append([-lit], weight=1)
    rc2 = _TimedRC2(formula, deadline, solver="g4", adapt=True, exhaust=True, minz=True)
    try:
        found = deadline.run(rc2, lambda: rc2.compute(expect_interrupt=True))
        if found is not None:
            return rc2.cost, found
        return rc2.proven, None
    except TimeoutError:
        return rc2.proven, None
    finally:
        rc2.delete()


def _descend(encoding: Encoding, softs: list[int], deadline: _Deadline, lower: int, phases: list[int],
             on_model, best) -> int:
    """Ask for a placement with fewer copies than ``best()``, again and again; an unsatisfiable
    bound ``b`` proves ``b + 1`` (with no placement known yet: any placement at all; unsatisfiable
    then gives ``len(softs) + 1``, "none"). Returns the lower bound reached."""
    with Solver(name=SOLVER, bootstrap_with=encoding.hard) as solver:
        top = best() if best() is not None else len(softs)
        totalizer = ITotalizer(lits=softs, ubound=top, top_id=encoding.pool.top)
        solver.append_formula(totalizer.cnf.clauses)
        solver.set_phases([v if phases[q] == p else -v for q in encoding.qubits for p, v in encoding.x[q].items()])
        while best() is None or lower < best():
            bound = len(softs) if best() is None else best() - 1
            assumptions = [-totalizer.rhs[bound]] if bound < len(totalizer.rhs) else []
            status = deadline.solve(solver, assumptions)
            if status is None:
                break
            if not status:
                lower = bound + 1
                break
            on_model(solver.get_model())
        totalizer.delete()
    return lower
