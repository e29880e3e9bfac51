"""The network model: constructors, the JSON schema's defaults, and every rejection."""

from __future__ import annotations

import json
import math

import pytest

from dqc_compiler import DQCError, Network
from dqc_compiler.network import DEFAULT_COMM_QUBITS, QPU, Link


def _pairs(network: Network) -> set[frozenset]:
    return {frozenset(link.between) for link in network.links}


# ---------------------------------------------------------------------- constructors
def test_all_to_all_names_capacities_and_links():
    net = Network.all_to_all(4, 3, comm_qubits=1)
    assert [q.name for q in net.qpus] == ["qpu0", "qpu1", "qpu2", "qpu3"]
    assert all(q.data_qubits == 3 and q.comm_qubits == 1 for q in net.qpus)
    assert net.num_qpus == 4
    assert net.capacity == 12
    assert len(net.links) == 6
    assert _pairs(net) == {frozenset((f"qpu{a}", f"qpu{b}")) for a in range(4) for b in range(a + 1, 4)}
    assert net.graph().number_of_edges() == 6


def test_all_to_all_single_qpu_has_no_links():
    net = Network.all_to_all(1, 5)
    assert net.links == []
    assert net.qpus[0].comm_qubits == DEFAULT_COMM_QUBITS == 2


@pytest.mark.parametrize("k", [0, -1, 2.0, "2"])
def test_all_to_all_rejects_bad_k(k):
    with pytest.raises(DQCError, match="positive integer"):
        Network.all_to_all(k, 2)


@pytest.mark.parametrize("data", [0, -2])
def test_all_to_all_rejects_bad_capacity(data):
    with pytest.raises(DQCError, match="data qubits"):
        Network.all_to_all(2, data)


@pytest.mark.parametrize(
    "n, k, capacity",
    [(4, 2, 2), (5, 2, 3), (7, 3, 3), (9, 3, 3), (10, 3, 4), (1, 4, 1), (3, 5, 1), (16, 16, 1), (0, 2, 1)],
)
def test_for_circuit_capacity_is_ceil_n_over_k(n, k, capacity):
    net = Network.for_circuit(n, k)
    assert net.num_qpus == k
    assert all(q.data_qubits == capacity for q in net.qpus)
    assert net.capacity >= n
    assert len(net.links) == k * (k - 1) // 2


def test_for_circuit_passes_comm_qubits():
    assert {q.comm_qubits for q in Network.for_circuit(6, 3, comm_qubits=4).qpus} == {4}


@pytest.mark.parametrize("k", [0, -3])
def test_for_circuit_rejects_bad_k(k):
    with pytest.raises(DQCError, match=f"--qpus must be a positive integer, got {k}"):
        Network.for_circuit(4, k)


# ---------------------------------------------------------------------- from_dict defaults
def test_from_dict_defaults():
    net = Network.from_dict({"qpus": [{"name": "a", "data_qubits": 3}, {"name": "b", "data_qubits": 2},
                                      {"name": "c", "data_qubits": 1, "comm_qubits": 5}]})
    assert [(q.name, q.data_qubits, q.comm_qubits) for q in net.qpus] == [("a", 3, 2), ("b", 2, 2), ("c", 1, 5)]
    # no "links" key: all-to-all
    assert _pairs(net) == {frozenset("ab"), frozenset("ac"), frozenset("bc")}
    assert net.capacity == 6


def test_from_dict_empty_links_means_no_links():
    net = Network.from_dict({"qpus": [{"name": "a", "data_qubits": 1}, {"name": "b", "data_qubits": 1}], "links": []})
    assert net.links == []
    assert net.link(0, 1) is None


def test_from_dict_links_as_pairs_and_objects():
    net = Network.from_dict({
        "qpus": [{"name": n, "data_qubits": 1} for n in ("a", "b", "c")],
        "links": [["a", "b"], {"between": ["b", "c"], "ebit_time": 3, "fidelity": 0.9, "classical_time": 0.5}],
    })
    assert _pairs(net) == {frozenset("ab"), frozenset("bc")}
    link = net.link(net.index("c"), net.index("b"))
    assert link == Link(("b", "c"), ebit_time=3.0, fidelity=0.9, classical_time=0.5)
    assert net.link(net.index("a"), net.index("c")) is None  # a line, not all-to-all


def test_from_dict_zero_data_qubits_allowed():
    net = Network.from_dict({"qpus": [{"name": "router", "data_qubits": 0}, {"name": "b", "data_qubits": 2}]})
    assert net.capacity == 2


# ---------------------------------------------------------------------- rejections
def _qpus(*names):
    return [{"name": n, "data_qubits": 2} for n in names]


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "expected a JSON object"),
        ("qpus", "expected a JSON object"),
        ({}, "'qpus' must be a non-empty list"),
        ({"qpus": []}, "'qpus' must be a non-empty list"),
        ({"qpus": {"a": 1}}, "'qpus' must be a non-empty list"),
        ({"qpus": [3]}, r"qpus\[0\]: expected an object"),
        ({"qpus": [{"data_qubits": 2}]}, r"qpus\[0\]: missing string 'name'"),
        ({"qpus": [{"name": "a"}]}, "missing 'data_qubits'"),
        ({"qpus": _qpus("a", "a")}, "QPU 'a' is named twice"),
        ({"qpus": _qpus("a", "b"), "links": [["a", "c"]]}, "unknown QPU 'c'"),
        ({"qpus": _qpus("a", "b"), "links": [["z", "b"]]}, "unknown QPU 'z'"),
        ({"qpus": _qpus("a", "b"), "links": [["a", "a"]]}, "joins a QPU to itself"),
        ({"qpus": _qpus("a", "b"), "links": [["a", "b"], ["b", "a"]]}, "listed twice"),
        ({"qpus": _qpus("a", "b"), "links": [["a", "b"], {"between": ["a", "b"]}]}, "listed twice"),
        ({"qpus": _qpus("a", "b"), "links": "a-b"}, "'links' must be a list"),
        ({"qpus": _qpus("a", "b"), "links": [["a"]]}, "list of two QPU names"),
        ({"qpus": _qpus("a", "b"), "links": [["a", "b", "c"]]}, "list of two QPU names"),
        ({"qpus": _qpus("a", "b"), "links": [{"between": ["a", 1]}]}, "list of two QPU names"),
        ({"qpus": _qpus("a", "b"), "links": [{"between": ["a", "b"], "fidelity": 1.5}]}, "at most 1"),
        ({"qpus": _qpus("a", "b"), "links": [{"between": ["a", "b"], "ebit_time": -1}]}, "non-negative"),
        ({"qpus": [{"name": "a", "data_qubits": -1}]}, r"data_qubits: expected an integer >= 0"),
        ({"qpus": [{"name": "a", "data_qubits": 2, "comm_qubits": -2}]}, r"comm_qubits: expected an integer >= 0"),
        ({"qpus": [{"name": "a", "data_qubits": 2.5}]}, "expected an integer"),
        ({"qpus": [{"name": "a", "data_qubits": True}]}, "expected an integer"),
        ({"qpus": [{"name": "a", "data_qubits": "2"}]}, "expected an integer"),
        ({"qpus": [{"name": "a", "data_qubits": 2, "gate_time": -1.0}]}, "non-negative"),
        ({"qpus": [{"name": "2fast", "data_qubits": 2}]}, "not a valid register name"),
        ({"qpus": [{"name": "my-qpu", "data_qubits": 2}]}, "not a valid register name"),
        ({"qpus": [{"name": "", "data_qubits": 2}]}, "not a valid register name"),
        ({"qpus": [{"name": "qubit", "data_qubits": 2}]}, "not a valid register name"),
        ({"qpus": [{"name": "if", "data_qubits": 2}]}, "not a valid register name"),
    ],
)
def test_from_dict_rejects(data, message):
    with pytest.raises(DQCError, match=message) as info:
        Network.from_dict(data, source="net.json")
    text = str(info.value)
    assert text.startswith("net.json:"), text  # the source is named
    assert "\n" not in text


@pytest.mark.parametrize(
    "qpus, links, message",
    [
        ([QPU("a", 2), QPU("a", 2)], [], "named twice"),
        ([QPU("a", 2), QPU("b", 2)], [Link(("a", "x"))], "unknown QPU 'x'"),
        ([QPU("a", 2), QPU("b", 2)], [Link(("b", "b"))], "itself"),
        ([QPU("a", 2), QPU("b", 2)], [Link(("a", "b")), Link(("b", "a"))], "listed twice"),
        ([QPU("a", -1)], [], "negative"),
        ([QPU("a", 1, comm_qubits=-1)], [], "negative"),
        ([QPU("a b", 1)], [], "not a valid register name"),
    ],
)
def test_direct_construction_is_validated(qpus, links, message):
    with pytest.raises(DQCError, match=message):
        Network(qpus, links)


# ---------------------------------------------------------------------- files and to_dict
def test_from_file(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps({"qpus": _qpus("left", "right")}))
    net = Network.from_file(path)
    assert [q.name for q in net.qpus] == ["left", "right"]
    assert _pairs(net) == {frozenset(("left", "right"))}


def test_from_file_errors_name_the_file(tmp_path):
    with pytest.raises(DQCError, match="network file not found"):
        Network.from_file(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "qpus": [\n    {"name": "a" "data_qubits": 1}\n  ]\n}\n')
    with pytest.raises(DQCError, match=r"bad\.json:3: malformed network JSON"):
        Network.from_file(bad)
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps({"qpus": _qpus("a", "a")}))
    with pytest.raises(DQCError, match=r"dup\.json: QPU 'a' is named twice"):
        Network.from_file(dup)


def test_to_dict_is_the_report_field_and_round_trips():
    data = {
        "qpus": [{"name": "a", "data_qubits": 3, "comm_qubits": 1}, {"name": "b", "data_qubits": 2, "comm_qubits": 2},
                 {"name": "c", "data_qubits": 4, "comm_qubits": 0}],
        "links": [["a", "b"], ["b", "c"]],
    }
    net = Network.from_dict(data)
    assert net.to_dict() == data
    assert json.loads(json.dumps(net.to_dict())) == data
    again = Network.from_dict(net.to_dict())
    assert again.to_dict() == data
    assert Network.all_to_all(2, 3).to_dict() == {
        "qpus": [{"name": "qpu0", "data_qubits": 3, "comm_qubits": 2}, {"name": "qpu1", "data_qubits": 3, "comm_qubits": 2}],
        "links": [["qpu0", "qpu1"]],
    }


def test_index_and_graph():
    net = Network.from_dict({"qpus": _qpus("a", "b", "c"), "links": [["a", "c"]]})
    assert [net.index(n) for n in "abc"] == [0, 1, 2]
    with pytest.raises(DQCError, match="no QPU named 'z'"):
        net.index("z")
    graph = net.graph()
    assert sorted(graph.nodes) == [0, 1, 2]
    assert list(graph.edges) == [(0, 2)]
    assert net.link(2, 0).between == ("a", "c")


def _reference_routes(network):
    """The routes as first written: one Dijkstra per pair over the relays plus the two ends."""
    import math

    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(network.num_qpus))
    for u, v, data in network.graph().edges(data=True):
        if data["link"].werner > 0:
            graph.add_edge(u, v, weight=-math.log(data["link"].werner) + 1e-9, link=data["link"])
    relays = [j for j, q in enumerate(network.qpus) if q.comm_qubits >= 2]
    routes = {}
    for a in range(network.num_qpus):
        for b in range(a + 1, network.num_qpus):
            try:
                path = nx.dijkstra_path(graph.subgraph(set(relays) | {a, b}), a, b)
            except nx.NetworkXNoPath:
                continue
            routes[(a, b)] = tuple(path)
            routes[(b, a)] = tuple(reversed(path))
    return routes


def test_lazy_routes_match_one_search_per_pair():
    """Routes searched once per source (on demand) are, tie for tie, those of one search per pair."""
    import random

    from dqc_compiler.network import QPU, Link

    rng = random.Random(5)
    networks = [Network.from_spec(s) for s in ("line:5x2", "ring:6x2", "grid:3x3x2", "star:6x2", "grid:2x4x2,comm=1")]
    for _ in range(30):
        k = rng.randint(3, 9)
        qpus = [QPU(f"p{i}", 2, rng.choice([1, 2, 2, 3])) for i in range(k)]
        links = [Link((f"p{a}", f"p{b}"), fidelity=rng.choice([1.0, 0.9, 0.95, 0.2]))
                 for a in range(k) for b in range(a + 1, k) if rng.random() < 0.5]
        networks.append(Network(qpus, links))
    for network in networks:
        expected = _reference_routes(network)
        k = network.num_qpus
        found = {(a, b): network.route(a, b).path for a in range(k) for b in range(k)
                 if a != b and network.route(a, b) is not None}
        assert found == expected
        fresh = Network(network.qpus, network.links)  # distances first, before any Route is built
        assert all(fresh.distance(a, b) == (len(expected[(a, b)]) - 1 if (a, b) in expected else math.inf)
                   for a in range(k) for b in range(k) if a != b)


def test_distances_on_a_long_line_are_cheap():
    """A 4-qubit circuit on a line of 200 QPUs: the all-pairs hop table reads path lengths, it builds
    no route objects (40,000 of them, up to 199 hops each, took seconds)."""
    from dqc_compiler.placement import distances

    network = Network.from_spec("line:200x1")
    table = distances(network)
    assert table[0, 199] == 199 and table[57, 3] == 54
    assert not network._tables()["routes"][0], "no Route was built"
