"""Assign input qubits to QPUs: METIS on the interaction graph, then capacity repair and refinement."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sys
import tempfile
from typing import Callable

import networkx as nx
import numpy as np
import pymetis
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass

from ..errors import DQCError
from ..network import Network
from ..placement import copy_traffic, cut_traffic, distances, place, weighted_copies
from ..segments import BurstModel, CircuitModel, choose_copies, copy_count
from ..settings import LevelSettings, settings_for
from ..planner import plan
from .bursts import best_bursts, to_bursts

logger = logging.getLogger(__name__)

PARTITIONERS = ("metis", "contiguous")
#: Above this many gates (two-qubit and wider), the partition's finalists after the first are
#: measured against the best so far (:func:`~dqc_compiler.passes.bursts.best_bursts`'s ``bound``):
#: a finalist none of whose plain groupings beats it is dropped without the comm-pressure repair
#: and the embedding candidates. At or below it (every bundled benchmark) all are measured in full.
BOUNDED_FINALISTS_ABOVE = 20_000
#: :func:`burst_graph` sums pair weights in an n x n matrix up to this many qubits (8 MB at 1000).
DENSE_LIMIT = 4000


def refine_budget(level: int, num_gates: int) -> int:
    """Evaluations the level-``level`` refinement may spend on a circuit of ``num_gates`` 2q gates
    (:meth:`~dqc_compiler.settings.LevelSettings.refine_budget` of that level; levels above 3 count as 3)."""
    return settings_for(min(level, 3)).refine_budget(num_gates)


class PartitionQubits(AnalysisPass):
    """Set ``property_set["dqc_partition"]``: a QPU index for every input qubit.

    ``metis`` partitions with METIS (``pymetis``, seeded, target part weights proportional to the
    QPUs' data capacities), repairs any capacity overflow by moving the qubits that lose least,
    then refines with greedy single moves and pair swaps until no move helps. It does so over the
    m largest QPUs for every m whose capacity holds the circuit, and keeps the best.

    * ``level`` 0 and 1: the graph is the interaction graph and the objective its cut weight
      (which is the ebit count under one telegate per nonlocal gate).
    * On a network where some QPUs are not linked directly, the blocks are then placed
      (:func:`dqc_compiler.placement.place`) so that heavy traffic crosses few links, and the
      objective of the refinement is the distance-weighted (link-level) ebit count.
    * ``level`` 2 and 3: the objective is the true ebit count of the burst model
      (:func:`dqc_compiler.segments.copy_count`). METIS runs on the interaction graph and on the
      clique expansion of the burst hypergraph (a hyperedge per possible copy: the qubit and all
      the qubits its gates in that segment meet, weighted ``1/(size-1)``), the better start is
      kept, and a local search of single moves and swaps on the true count follows, for at most
      :meth:`~dqc_compiler.settings.LevelSettings.refine_budget` evaluations (deterministic: the
      budget counts evaluations, not seconds; level 3 also tries more METIS seeds, then refines
      once more on the ebits a dry run of the protocol insertion spends).
      Comm-qubit limits can split bursts, which the copy count does not see: the refined
      partition, the best start and the cut-weight partition are finally compared on the ebits a
      dry run of the protocol insertion really spends.

    ``contiguous`` fills the QPUs in qubit order (block of ``capacity`` qubits each), for
    comparison with tools that take the mapping as given; it is never refined.
    A placement decided elsewhere (the certified optimum, the ``dqc`` layout plugin) goes through
    :class:`~dqc_compiler.passes.FixedPartition` instead.

    Complexity (n qubits, g gates, k QPUs, e edges of the interaction graph): METIS and the
    cut-weight refinement O(k (e + n k)) per start (one start per usable number of QPUs); at level
    2-3 the burst graph O(g + sum of squared hyperedge sizes), each evaluation of the local search
    O(g) plus a bipartite matching, and its budget ``refine_work / g`` (capped) evaluations, so
    O(refine_work) in all; then at most three finalists, each a
    :func:`~dqc_compiler.passes.bursts.best_bursts` (a few covers and dry runs, O(g log g) each;
    above :data:`BOUNDED_FINALISTS_ABOVE` gates, a finalist stops as soon as it has lost).
    The result never puts more qubits on a QPU than its ``data_qubits``.

    What the levels do comes from ``settings`` (:class:`~dqc_compiler.settings.LevelSettings`);
    without them, from ``level`` and ``refine``. With ``refine`` off (``settings.refine``) no
    local search runs at all: METIS and the capacity repair only.
    """

    def __init__(
        self,
        network: Network,
        method: str = "metis",
        seed: int | None = None,
        level: int = 2,
        refine: bool = True,
        settings: LevelSettings | None = None,
    ):
        super().__init__()
        if method not in PARTITIONERS:
            raise DQCError(f"unknown partitioner '{method}' (choose from {', '.join(PARTITIONERS)})")
        self.network = network
        self.method = method
        self.seed = seed
        self.settings = settings if settings is not None else settings_for(min(level, 3), refine=refine)

    def run(self, dag: DAGCircuit) -> None:
        graph = self.property_set["dqc_interaction_graph"]
        n = dag.num_qubits()
        capacities = [q.data_qubits for q in self.network.qpus]
        if n > sum(capacities):
            raise DQCError(
                f"the circuit has {n} qubits but the network holds only {sum(capacities)} data qubits"
            )
        if self.method == "contiguous":
            parts = contiguous_partition(n, capacities)
        elif not self.settings.burst_aware_partition:
            parts = best_metis_partition(graph, capacities, self.seed, local_search=self.settings.refine)
            if not self.network.is_uniform():
                parts = place(parts, cut_traffic(graph, parts, len(capacities)), self.network)
        else:
            parts = self._burst_aware(dag, graph, capacities)
        assert all(parts.count(j) <= c for j, c in enumerate(capacities)), "capacity broken"
        logger.info("partition cut weight %d", cut_weight(graph, parts))
        self.property_set["dqc_partition"] = parts


    def _burst_aware(self, dag: DAGCircuit, graph: nx.Graph, capacities: list[int]) -> list[int]:
        circuit = CircuitModel.of(self.property_set, dag)
        model = circuit.bursts()
        n = dag.num_qubits()
        k = len(capacities)
        uniform = self.network.is_uniform()
        table = distances(self.network)

        def score(parts: list[int]) -> float:
            if uniform:
                return copy_count(model, parts)
            return weighted_copies(model, placed(parts), table)

        def placed(parts: list[int]) -> list[int]:
            if uniform:
                return parts
            return place(parts, copy_traffic(model, parts, k), self.network, table)

        settings = self.settings
        seed = 0 if self.seed is None else self.seed
        seeds = [seed + i for i in range(settings.metis_seeds)]
        hyper = burst_graph(model, n)
        search = settings.refine
        starts = []
        for s in seeds:
            starts.append(best_metis_partition(graph, capacities, s, score=score, local_search=search))
            starts.append(best_metis_partition(hyper, capacities, s, score=score, local_search=search))
        start = placed(min(starts, key=score))
        refined = refine_ebits(score, start, capacities, settings.refine_budget(len(model.gates)))
        real_budget = settings.dry_run_refine_budget(len(model.gates) + len(model.multi))
        if real_budget:

            def real(parts: list[int]) -> int:
                bursts = to_bursts(model, choose_copies(model, parts), parts)
                return plan(dag, bursts, parts, self.network, model=circuit).ebits

            refined = refine_ebits(real, refined, capacities, real_budget)
        logger.info("burst-aware partition: %d copies from METIS, %d after refinement", score(start), score(refined))
        # comm-qubit limits can split bursts, which the copy count does not see: the final word is
        # the dry-run ebit count, over the refined partition, the best start and the cut-weight one
        finalists = []
        for parts in (refined, start, placed(best_metis_partition(graph, capacities, seed, local_search=search))):
            if parts not in finalists:
                finalists.append(parts)
        real, groupings = [], []
        bounded = len(model.gates) + len(model.multi) > BOUNDED_FINALISTS_ABOVE
        for parts in finalists:  # on a tie, a grouping without Hadamard embedding is preferred
            bound = min(e for e, _ in real) if bounded and real else None  # only a finalist within it can win
            bursts, walk = best_bursts(dag, parts, self.network, settings, circuit, bound=bound)
            real.append((walk.ebits, any(getattr(b.model, "embedding", None) for b in bursts)))
            groupings.append(bursts)
        won = min(range(len(finalists)), key=lambda i: (real[i], i))
        # GroupBursts would measure the winner again: it finds its grouping here instead
        circuit.grouped[(tuple(finalists[won]), id(self.network), settings)] = (self.network, groupings[won])
        return finalists[won]


def check_partition(parts: list[int], n: int, capacities: list[int]) -> list[int]:
    """``parts`` if it places ``n`` qubits on existing QPUs within their capacities, else a :class:`DQCError`."""
    if len(parts) != n:
        raise DQCError(f"the partition gives {len(parts)} QPU indices for a circuit of {n} qubits")
    for q, p in enumerate(parts):
        if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p < len(capacities):
            raise DQCError(f"the partition puts qubit {q} on QPU {p!r}, which the network does not have")
    for p, capacity in enumerate(capacities):
        if parts.count(p) > capacity:
            raise DQCError(f"the partition puts {parts.count(p)} qubits on QPU {p}, which holds {capacity}")
    return list(parts)


def burst_graph(model: BurstModel, n: int, scale: int = 120) -> nx.Graph:
    """Clique expansion of the burst hypergraph: one hyperedge per side (the qubit and the partners
    of the gates that side can serve), each weighted ``1/(size-1)``, scaled to integers for METIS.

    O(g + sum of squared hyperedge sizes) with numpy on an n x n matrix (each pair's weight is the
    sum of its shares in hyperedge order, as a loop over the pairs would add them)."""
    members: dict[int, set[int]] = {}
    for _, a, b, sa, sb in model.compact:
        for side, partner in ((sa, b), (sb, a)):
            if side >= 0:
                members.setdefault(side, {model.sides[side].qubit}).add(partner)
    for _, qubits, sides in model.compact_multi:
        for side in sides:
            if side >= 0:
                members.setdefault(side, {model.sides[side].qubit}).update(qubits)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    if n > DENSE_LIMIT:  # an n x n matrix would not fit: pair by pair
        pairs: dict[tuple[int, int], float] = {}
        for group in members.values():
            if len(group) < 2:
                continue
            share = 1.0 / (len(group) - 1)
            for a, b in itertools.combinations(sorted(group), 2):
                pairs[(a, b)] = pairs.get((a, b), 0.0) + share
        edges = [(a, b, w) for (a, b), w in pairs.items()]
    else:
        weights = np.zeros((n, n))
        for group in members.values():
            if len(group) < 2:
                continue
            index = np.array(sorted(group))
            weights[np.ix_(index, index)] += 1.0 / (len(group) - 1)
        rows, cols = np.nonzero(np.triu(weights, 1))
        edges = zip(rows.tolist(), cols.tolist(), weights[rows, cols].tolist())
        edges = list(edges)
    top = max((w for _, _, w in edges), default=1.0)
    for a, b, w in edges:
        graph.add_edge(a, b, weight=max(1, round(w * scale / top)))
    return graph


def refine_ebits(
    score: Callable[[list[int]], int], parts: list[int], capacities: list[int], budget: int
) -> list[int]:
    """First-improvement local search on ``score``: single moves into free space, then swaps.

    Stops when a full sweep finds nothing better or after ``budget`` evaluations. Of the empty
    QPUs, only the first of each capacity is tried as a destination: ``score`` places the blocks
    on the network itself, so empty QPUs of one size are interchangeable, and a sweep costs
    O(n * (used QPUs + capacities)) moves rather than O(n * k).
    """
    parts = list(parts)
    best = score(parts)
    n, k = len(parts), len(capacities)
    used = 0
    improved = True
    while improved and used < budget and best > 0:  # (a zero budget returns the start unchanged)
        improved = False
        sizes = [parts.count(j) for j in range(k)]
        empty_sizes: set[int] = set()
        destinations = []
        for j in range(k):
            if sizes[j] == 0:
                if capacities[j] in empty_sizes:
                    continue
                empty_sizes.add(capacities[j])
            destinations.append(j)
        for v in range(n):
            for dst in destinations:
                if dst == parts[v] or sizes[dst] >= capacities[dst] or used >= budget:
                    continue
                src = parts[v]
                parts[v] = dst
                used += 1
                value = score(parts)
                if value < best:
                    best, improved = value, True
                    sizes[src] -= 1
                    sizes[dst] += 1
                else:
                    parts[v] = src
        for v in range(n):
            for u in range(v + 1, n):
                if parts[v] == parts[u] or used >= budget:
                    continue
                parts[v], parts[u] = parts[u], parts[v]
                used += 1
                value = score(parts)
                if value < best:
                    best, improved = value, True
                else:
                    parts[v], parts[u] = parts[u], parts[v]
    return parts


def contiguous_partition(n: int, capacities: list[int]) -> list[int]:
    """Qubits in order, each QPU filled to its capacity before the next."""
    parts = []
    for qpu, capacity in enumerate(capacities):
        parts.extend([qpu] * min(capacity, n - len(parts)))
    return parts


def best_metis_partition(
    graph: nx.Graph,
    capacities: list[int],
    seed: int | None,
    score: Callable[[list[int]], int] | None = None,
    local_search: bool = True,
) -> list[int]:
    """The best refined METIS partition over the m largest QPUs, for every m that holds the circuit.

    "Best" is the lowest ``score`` (default: the graph's cut weight). ``local_search=False``
    skips the cut-weight refinement (:func:`refine`) of each METIS result.

    Capacities are upper bounds, not targets: a circuit that fits on fewer QPUs should not be
    spread over all of them just because they exist.
    """
    n = graph.number_of_nodes()
    order = sorted(range(len(capacities)), key=lambda j: (-capacities[j], j))
    best = None
    for m in range(1, min(len(capacities), max(1, n)) + 1):  # n qubits fill at most n QPUs
        chosen = set(order[:m])
        if sum(capacities[j] for j in chosen) < n:
            continue
        restricted = [c if j in chosen else 0 for j, c in enumerate(capacities)]
        parts = metis_partition(graph, restricted, seed)
        parts = repair_capacity(graph, parts, restricted)
        if local_search:
            parts = refine(graph, parts, restricted)
        cut = score(parts) if score else cut_weight(graph, parts)
        if best is None or cut < best[0]:
            best = (cut, parts)
        if cut == 0:
            break
    return best[1]


def metis_partition(graph: nx.Graph, capacities: list[int], seed: int | None) -> list[int]:
    """METIS k-way partition of ``graph`` with part weights in proportion to ``capacities``."""
    n, k = graph.number_of_nodes(), len(capacities)
    usable = [j for j, c in enumerate(capacities) if c > 0]
    if len(usable) == 1 or n <= 1 or graph.number_of_edges() == 0:
        return contiguous_partition(n, capacities)
    xadj, adjncy, eweights = [0], [], []
    for v in range(n):
        for u in sorted(graph.neighbors(v)):
            adjncy.append(u)
            eweights.append(int(graph[v][u]["weight"]))
        xadj.append(len(adjncy))
    total = sum(capacities[j] for j in usable)
    tpwgts = [capacities[j] / total for j in usable]
    if len(usable) > n:  # METIS cannot fill more parts than vertices (it says so on stdout)
        return contiguous_partition(n, capacities)
    options = pymetis.Options(seed=0 if seed is None else int(seed) % (2**31), ufactor=1)
    try:
        with _stdout_to_log():
            result = pymetis.part_graph(
                len(usable), pymetis.CSRAdjacency(xadj, adjncy), eweights=eweights, tpwgts=tpwgts, options=options
            )
    except Exception as exc:  # noqa: BLE001 - METIS rejects some degenerate graphs; fall back
        logger.warning("METIS failed (%s); starting from contiguous blocks", exc)
        return contiguous_partition(n, capacities)
    return [usable[p] for p in result.vertex_part]


@contextlib.contextmanager
def _stdout_to_log():
    """Keep what the METIS C library prints (``***Cannot bisect ...``) off file descriptor 1, where
    it would corrupt ``--json`` output; it goes to the debug log instead."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no usable fd 1 (embedded, closed): nothing to guard
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            said = sink.read(4096).decode(errors="replace").strip()
            if said:
                logger.debug("METIS said: %s", said)


def cut_weight(graph: nx.Graph, parts: list[int]) -> int:
    """Total weight of edges whose ends sit on different QPUs."""
    return sum(d["weight"] for a, b, d in graph.edges(data=True) if parts[a] != parts[b])


def _connections(graph: nx.Graph, parts: list[int], k: int) -> np.ndarray:
    """``conn[v, j]`` = weight of v's edges into QPU j."""
    conn = np.zeros((graph.number_of_nodes(), k), dtype=np.int64)
    for a, b, d in graph.edges(data=True):
        conn[a, parts[b]] += d["weight"]
        conn[b, parts[a]] += d["weight"]
    return conn


def repair_capacity(graph: nx.Graph, parts: list[int], capacities: list[int]) -> list[int]:
    """Move qubits out of overfull QPUs, each time the move that costs least cut weight."""
    parts = list(parts)
    k = len(capacities)
    sizes = [parts.count(j) for j in range(k)]
    conn = _connections(graph, parts, k)
    while any(s > c for s, c in zip(sizes, capacities)):
        best = None
        for v, src in enumerate(parts):
            if sizes[src] <= capacities[src]:
                continue
            for dst in range(k):
                if dst != src and sizes[dst] < capacities[dst]:
                    gain = conn[v, dst] - conn[v, src]
                    if best is None or gain > best[0]:
                        best = (gain, v, dst)
        _, v, dst = best
        _move(graph, parts, conn, sizes, v, dst)
    return parts


def _move(graph, parts, conn, sizes, v, dst) -> None:
    src = parts[v]
    for u in graph.neighbors(v):
        w = graph[v][u]["weight"]
        conn[u, src] -= w
        conn[u, dst] += w
    sizes[src] -= 1
    sizes[dst] += 1
    parts[v] = dst


def refine(graph: nx.Graph, parts: list[int], capacities: list[int], max_passes: int = 50) -> list[int]:
    """Greedy local search on the cut weight: best single move or pair swap, until none helps."""
    parts = list(parts)
    k = len(capacities)
    n = len(parts)
    sizes = [parts.count(j) for j in range(k)]
    conn = _connections(graph, parts, k)
    for _ in range(max_passes):
        improved = False
        for v in range(n):  # single moves into free space
            src = parts[v]
            gains = conn[v] - conn[v, src]
            for dst in np.argsort(-gains, kind="stable"):
                dst = int(dst)
                if gains[dst] <= 0:
                    break
                if dst != src and sizes[dst] < capacities[dst]:
                    _move(graph, parts, conn, sizes, v, dst)
                    improved = True
                    break
        if _swap_pass(graph, parts, conn, sizes):  # swaps between full QPUs
            improved = True
        if not improved:
            break
    return parts


def _swap_pass(graph: nx.Graph, parts: list[int], conn: np.ndarray, sizes: list[int]) -> bool:
    """One sweep of first-improvement pair swaps, ``v`` in order and for each the first ``u > v``
    whose swap gains, as a double loop would, but each ``v`` scans its ``u`` at once with numpy.
    A qubit ``v`` without edges gains only by what its partner gains, which depends on nothing but
    ``v``'s QPU: once one such ``v`` on a QPU found no swap, the later ones on it (with fewer
    partners to try) are skipped until some swap changes the state. True when a swap was made."""
    n = len(parts)
    part = np.asarray(parts, dtype=np.int64)
    rows = np.arange(n)
    improved = False
    swaps = 0
    fruitless: set[tuple[int, int]] = set()
    for v in range(n):
        w = np.zeros(n, dtype=np.int64)
        isolated = graph.degree(v) == 0
        if isolated:
            if (parts[v], swaps) in fruitless:
                continue
            fruitless.add((parts[v], swaps))
        for u, data in graph.adj[v].items():
            w[u] = data["weight"]
        start = v + 1
        while start < n:
            a = parts[v]
            tail = slice(start, n)
            others = part[tail]
            gain = (conn[v, others] - conn[v, a]) + (conn[rows[tail], a] - conn[rows[tail], others]) - 2 * w[tail]
            hits = np.flatnonzero((gain > 0) & (others != a))
            if not len(hits):
                break
            u = start + int(hits[0])
            b = parts[u]
            _move(graph, parts, conn, sizes, v, b)
            _move(graph, parts, conn, sizes, u, a)
            part[v], part[u] = b, a
            improved = True
            swaps += 1
            start = u + 1
    return improved
