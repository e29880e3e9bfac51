"""Assign input qubits to QPUs: METIS on the interaction graph, then capacity repair and refinement."""

from __future__ import annotations

import logging

import networkx as nx
import numpy as np
import pymetis
from qiskit.dagcircuit import DAGCircuit
from qiskit.transpiler.basepasses import AnalysisPass

from ..errors import DQCError
from ..network import Network

logger = logging.getLogger(__name__)

PARTITIONERS = ("metis", "contiguous")


class PartitionQubits(AnalysisPass):
    """Set ``property_set["dqc_partition"]``: a QPU index for every input qubit.

    ``metis`` partitions the weighted interaction graph with METIS (``pymetis``, seeded, target
    part weights proportional to the QPUs' data capacities), repairs any capacity overflow by
    moving the qubits that lose least, then refines with greedy single moves and pair swaps on the
    cut weight until no move helps. It does so over the m largest QPUs for every m whose capacity
    holds the circuit, and keeps the lowest cut. ``contiguous`` fills the QPUs in qubit order (block of
    ``capacity`` qubits each), for comparison with tools that take the mapping as given.
    The result never puts more qubits on a QPU than its ``data_qubits``.
    """

    def __init__(self, network: Network, method: str = "metis", seed: int | None = None):
        super().__init__()
        if method not in PARTITIONERS:
            raise DQCError(f"unknown partitioner '{method}' (choose from {', '.join(PARTITIONERS)})")
        self.network = network
        self.method = method
        self.seed = seed

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
        else:
            parts = best_metis_partition(graph, capacities, self.seed)
        assert all(parts.count(j) <= c for j, c in enumerate(capacities)), "capacity broken"
        logger.info("partition cut weight %d", cut_weight(graph, parts))
        self.property_set["dqc_partition"] = parts


def contiguous_partition(n: int, capacities: list[int]) -> list[int]:
    """Qubits in order, each QPU filled to its capacity before the next."""
    parts = []
    for qpu, capacity in enumerate(capacities):
        parts.extend([qpu] * min(capacity, n - len(parts)))
    return parts


def best_metis_partition(graph: nx.Graph, capacities: list[int], seed: int | None) -> list[int]:
    """The lowest-cut refined METIS partition over the m largest QPUs, for every m that holds the circuit.

    Capacities are upper bounds, not targets: a circuit that fits on fewer QPUs should not be
    spread over all of them just because they exist.
    """
    n = graph.number_of_nodes()
    order = sorted(range(len(capacities)), key=lambda j: (-capacities[j], j))
    best = None
    for m in range(1, len(capacities) + 1):
        chosen = set(order[:m])
        if sum(capacities[j] for j in chosen) < n:
            continue
        restricted = [c if j in chosen else 0 for j, c in enumerate(capacities)]
        parts = metis_partition(graph, restricted, seed)
        parts = repair_capacity(graph, parts, restricted)
        parts = refine(graph, parts, restricted)
        cut = cut_weight(graph, parts)
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
    options = pymetis.Options(seed=0 if seed is None else int(seed) % (2**31), ufactor=1)
    try:
        result = pymetis.part_graph(
            len(usable), pymetis.CSRAdjacency(xadj, adjncy), eweights=eweights, tpwgts=tpwgts, options=options
        )
    except Exception as exc:  # noqa: BLE001 - METIS rejects some degenerate graphs; fall back
        logger.warning("METIS failed (%s); starting from contiguous blocks", exc)
        return contiguous_partition(n, capacities)
    return [usable[p] for p in result.vertex_part]


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
        for v in range(n):  # swaps between full QPUs
            for u in range(v + 1, n):
                a, b = parts[v], parts[u]
                if a == b:
                    continue
                w = graph[v][u]["weight"] if graph.has_edge(v, u) else 0
                gain = (conn[v, b] - conn[v, a]) + (conn[u, a] - conn[u, b]) - 2 * w
                if gain > 0:
                    _move(graph, parts, conn, sizes, v, b)
                    _move(graph, parts, conn, sizes, u, a)
                    improved = True
        if not improved:
            break
    return parts
