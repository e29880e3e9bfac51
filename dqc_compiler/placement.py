"""Placement: put the partition's blocks on QPUs so that heavy traffic crosses few links."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np

from .network import Network
from .segments import BurstModel, minimum_cover

#: Cost of a pair of QPUs that cannot share an ebit at all (no route): never worth it.
UNREACHABLE = 1e6
#: Up to this many QPUs every relabelling is tried; above, pairwise swaps until none helps.
EXHAUSTIVE_QPUS = 7


def distances(network: Network) -> np.ndarray:
    """Link-level ebits per end-to-end ebit between every two QPUs (``UNREACHABLE`` when none)."""
    k = network.num_qpus
    if network.is_uniform():  # every pair linked directly: no route searches
        return np.ones((k, k)) - np.eye(k)
    tables = network._tables()  # computed once per network (the partitioner and GroupBursts share it)
    if "distance_table" not in tables:
        table = np.zeros((k, k))
        for a in range(k):
            for b in range(a + 1, k):
                d = network.distance(a, b)
                table[a, b] = table[b, a] = UNREACHABLE if d == float("inf") else d
        tables["distance_table"] = table
    return tables["distance_table"].copy()


def copy_traffic(model: BurstModel, parts: list[int], k: int) -> np.ndarray:
    """``T[a, b]``: cat-entangled copies of qubits on QPU ``a`` sent to QPU ``b`` (minimum cover)."""
    traffic = np.zeros((k, k))
    if len(set(parts)) > 1:
        for side, remote in minimum_cover(model, parts):
            traffic[parts[side.qubit], remote] += 1
    return traffic


def cut_traffic(graph: nx.Graph, parts: list[int], k: int) -> np.ndarray:
    """``T[a, b]``: interaction-graph weight between qubits on QPUs ``a`` and ``b``."""
    traffic = np.zeros((k, k))
    for u, v, data in graph.edges(data=True):
        if parts[u] != parts[v]:
            traffic[parts[u], parts[v]] += data.get("weight", 1)
    return traffic


def weighted_copies(model: BurstModel, parts: list[int], table: np.ndarray) -> float:
    """Link-level ebits of a partition before comm-qubit limits: every copy times its distance."""
    return float((copy_traffic(model, parts, len(table)) * table).sum())


def place(parts: list[int], traffic: np.ndarray, network: Network, table: np.ndarray | None = None) -> list[int]:
    """Relabel the blocks of ``parts`` (QPU indices) to minimise ``sum T[a, b] * distance``.

    A block may move to any QPU whose ``data_qubits`` hold it. Exhaustive over relabellings for
    up to :data:`EXHAUSTIVE_QPUS` QPUs, else first-improvement pairwise swaps; ties keep the
    given labels, so an all-to-all network is left as it is. Deterministic.
    """
    k = network.num_qpus
    table = distances(network) if table is None else table
    sizes = np.bincount(parts, minlength=k)
    capacity = np.array([q.data_qubits for q in network.qpus])
    flow = traffic + traffic.T
    # only the labels that hold qubits matter (an empty block has no traffic and fits anywhere), so
    # cost and fit are evaluated on them: the work follows the QPUs used, not the network's size
    used = np.flatnonzero(sizes)
    flow_used = flow[np.ix_(used, used)]

    sizes_used = sizes[used]

    def cost(perm) -> float:
        at = np.asarray(perm)[used]
        return float((flow_used * table[at][:, at]).sum()) / 2

    def fits(perm) -> bool:
        return bool(np.all(sizes_used <= capacity[np.asarray(perm)[used]]))

    best = list(range(k))
    best_cost = cost(best)
    if best_cost == 0:
        return list(parts)
    if k <= EXHAUSTIVE_QPUS:
        for perm in itertools.permutations(range(k)):
            if fits(perm):
                value = cost(perm)
                if value < best_cost - 1e-9:
                    best, best_cost = list(perm), value
    else:
        improved = True
        while improved:
            improved = False
            holds = set(used.tolist())
            current = np.array(best)
            for a, b in itertools.combinations(range(k), 2):
                if a not in holds and b not in holds:
                    continue  # two empty blocks: swapping them changes nothing
                trial = current.copy()
                trial[a], trial[b] = trial[b], trial[a]
                if fits(trial):
                    value = cost(trial)
                    if value < best_cost - 1e-9:
                        current, best_cost, improved = trial, value, True
            best = current.tolist()
    return [best[p] for p in parts]
