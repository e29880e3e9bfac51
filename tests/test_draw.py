"""Network pictures: QPUs drawn where the shape of the network puts them (no crossing edges)."""

from __future__ import annotations

import itertools

import pytest

from dqc_compiler import Network
from dqc_compiler.draw import network_positions


def _segments_cross(p, q, r, s) -> bool:
    """Whether segments pq and rs cross at a point inside both (shared ends do not count)."""
    def orient(a, b, c):
        value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (value > 1e-9) - (value < -1e-9)
    if {p, q} & {r, s}:
        return False
    return orient(p, q, r) * orient(p, q, s) < 0 and orient(r, s, p) * orient(r, s, q) < 0


@pytest.mark.parametrize("spec", ["grid:2x2x2", "grid:2x3x2", "grid:3x3x2", "grid:3x4x2", "line:5x2", "ring:6x2",
                                  "star:5x2"])
def test_presets_are_drawn_without_crossing_edges_or_stacked_qpus(spec):
    network = Network.from_spec(spec)
    graph = network.graph()
    where = network_positions(graph)
    assert len({(round(x, 6), round(y, 6)) for x, y in where.values()}) == network.num_qpus  # no two on one spot
    for (a, b), (c, d) in itertools.combinations(graph.edges, 2):
        assert not _segments_cross(where[a], where[b], where[c], where[d]), (spec, (a, b), (c, d))


def test_a_grid_is_drawn_on_its_grid_and_a_line_on_a_line():
    where = network_positions(Network.from_spec("grid:2x3x2").graph())
    assert where == {0: (0, 0), 1: (1, 0), 2: (2, 0), 3: (0, -1), 4: (1, -1), 5: (2, -1)}  # qpu{r*cols+c} at (r, c)
    line = network_positions(Network.from_spec("line:4x2").graph())
    assert {y for _, y in line.values()} == {0.0} and sorted(x for x, _ in line.values()) == [0, 1, 2, 3]
    lengths = {round(((where[u][0] - where[v][0]) ** 2 + (where[u][1] - where[v][1]) ** 2) ** 0.5, 6)
               for u, v in Network.from_spec("grid:2x3x2").graph().edges}
    assert lengths == {1.0}  # every link one unit long
