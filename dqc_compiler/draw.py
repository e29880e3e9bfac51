"""Pictures: the communication schedule as a timeline, and the network with its traffic."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

from .errors import DQCError
from .io import write_atomically
from .network import Network

FORMATS = ("svg", "png", "pdf")
_COLOURS = {"gate": "#9db4c0", "measure": "#e0a458", "if_else": "#c2847a", "reset": "#bbbbbb", "epr": "#5c6b73"}


def _figure_bytes(figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, bbox_inches="tight")
    return buffer.getvalue()


def picture_format(path: str | Path) -> str:
    """The format a picture path asks for (its suffix); a one-line error for any other."""
    fmt = Path(path).suffix[1:].lower()
    if fmt not in FORMATS:
        raise DQCError(f"{path}: picture format must be one of {', '.join('.' + f for f in FORMATS)}")
    return fmt


def save(path: str | Path, picture: bytes) -> None:
    """Write a rendered picture (atomically)."""
    write_atomically(path, picture)


def draw_timeline(timeline: list, network: Network, fmt: str = "svg", title: str = "") -> bytes:
    """A lane per QPU: its operations as bars over time, each ``epr`` as a line joining two lanes,
    each classical message as an arrow from the measuring QPU to the one that reads the bit."""
    import matplotlib  # noqa: PLC0415 - keep import time low for the CLI

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    k = network.num_qpus
    figure, axes = plt.subplots(figsize=(11, 1.0 + 0.7 * k))
    for slot in timeline:
        if slot.name == "barrier":
            continue
        kind = slot.name if slot.name in _COLOURS else "gate"
        width = max(slot.end - slot.start, 1e-3)
        if slot.name == "epr":
            a, b = slot.qpus
            axes.plot([slot.start + width / 2] * 2, [a, b], color=_COLOURS["epr"], lw=1.2, alpha=0.8)
            for lane in slot.qpus:
                axes.broken_barh([(slot.start, width)], (lane - 0.15, 0.3), color=_COLOURS["epr"])
            continue
        for lane in slot.qpus:
            axes.broken_barh([(slot.start, width)], (lane - 0.3, 0.6), color=_COLOURS[kind], alpha=0.7)
        if slot.source is not None:
            axes.annotate("", xy=(slot.start, slot.qpus[0]), xytext=(slot.start, slot.source),
                          arrowprops={"arrowstyle": "->", "color": _COLOURS["if_else"], "lw": 0.7, "alpha": 0.6})
    axes.set_yticks(range(k), [q.name for q in network.qpus])
    axes.set_ylim(k - 0.5, -0.5)
    axes.set_xlabel("time (units of the network file)")
    axes.set_title(title or "communication schedule")
    axes.legend(handles=[Patch(color=c, label=label) for label, c in (
        ("local gate", _COLOURS["gate"]), ("measure", _COLOURS["measure"]), ("if (correction)", _COLOURS["if_else"]),
        ("reset", _COLOURS["reset"]), ("epr (ebit)", _COLOURS["epr"]))], loc="upper right", fontsize=7, ncol=5)
    picture = _figure_bytes(figure, fmt)
    plt.close(figure)
    return picture


def draw_network(network: Network, report: dict, fmt: str = "svg") -> bytes:
    """The network: QPUs with the input qubits placed on them, links labelled with the ebits
    that cross them (from the ``epr`` operations, so entanglement swapping counts on every link)."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import networkx as nx  # noqa: PLC0415
    from matplotlib import pyplot as plt  # noqa: PLC0415

    graph = network.graph()
    load = report["cost"].get("per_link", {})
    placed = {q.name: 0 for q in network.qpus}
    for entry in report["layout"]["initial"]:
        placed[entry["qpu"]] += 1
    positions = network_positions(graph)
    xs, ys = [x for x, _ in positions.values()], [y for _, y in positions.values()]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    figure, axes = plt.subplots(figsize=(min(16.0, 3 + 2.2 * width), min(12.0, 2.5 + 2.2 * height)))
    used = [load.get(_pair(network, u, v), 0) for u, v in graph.edges]
    top = max(used, default=0) or 1
    nx.draw_networkx_edges(graph, positions, ax=axes, width=[1 + 5 * w / top for w in used], edge_color="#5c6b73")
    nx.draw_networkx_edge_labels(
        graph, positions, ax=axes, font_size=8,
        edge_labels={(u, v): str(load.get(_pair(network, u, v), 0)) for u, v in graph.edges})
    sizes = [min(2600, 1500 + 40 * q.data_qubits) for q in network.qpus]
    nx.draw_networkx_nodes(graph, positions, ax=axes, node_size=sizes, node_color="#9db4c0")
    nx.draw_networkx_labels(graph, positions, ax=axes, font_size=8, labels={
        j: f"{q.name}\n{placed[q.name]}/{q.data_qubits} q\n{q.comm_qubits} comm" for j, q in enumerate(network.qpus)})
    axes.set_title(f"{report['input']['name']}: {report['cost']['ebits']} ebits (labels: ebits per link)")
    axes.axis("off")
    axes.margins(0.15)
    picture = _figure_bytes(figure, fmt)
    plt.close(figure)
    return picture


#: Up to this many QPUs a network is tested for being a grid (an isomorphism check) to draw it as one.
GRID_CHECK_QPUS = 400


def network_positions(graph) -> dict[int, tuple[float, float]]:
    """Where to draw each QPU, one unit between neighbours where the shape allows: a line on a
    line, a grid on its grid, a ring on a circle in ring order, a star around its hub; anything
    else by Kamada-Kawai (all-to-all on a circle)."""
    import networkx as nx  # noqa: PLC0415

    k = graph.number_of_nodes()
    degrees = [d for _, d in graph.degree]
    connected = k > 0 and nx.is_connected(graph)
    if k <= 1 or not graph.number_of_edges():
        return {j: (float(j), 0.0) for j in graph.nodes}
    if connected and nx.is_tree(graph) and max(degrees) <= 2:  # a line
        end = next(j for j in graph.nodes if graph.degree[j] == 1)
        return {j: (float(i), 0.0) for i, j in enumerate(nx.dfs_preorder_nodes(graph, end))}
    grid = _grid_coordinates(graph) if connected and k <= GRID_CHECK_QPUS else None
    if grid is not None:
        return grid
    if connected and k > 3 and min(degrees) == max(degrees) == 2:  # a ring
        order = [u for u, _ in nx.find_cycle(graph, source=min(graph.nodes))]
        return {j: _on_circle(i, k, max(1.0, k / 6)) for i, j in enumerate(order)}
    if connected and k > 3 and nx.is_tree(graph) and degrees.count(1) == k - 1:  # a star
        hub = max(graph.nodes, key=graph.degree)
        leaves = [j for j in graph.nodes if j != hub]
        return {hub: (0.0, 0.0)} | {j: _on_circle(i, len(leaves), 1.5) for i, j in enumerate(leaves)}
    if graph.number_of_edges() == k * (k - 1) // 2:
        return {j: _on_circle(i, k, max(1.0, k / 5)) for i, j in enumerate(sorted(graph.nodes))}
    return {j: (float(x), float(y)) for j, (x, y) in nx.kamada_kawai_layout(graph, scale=max(1.0, k / 4)).items()}


def _on_circle(i: int, k: int, radius: float) -> tuple[float, float]:
    import math  # noqa: PLC0415

    angle = math.pi / 2 - 2 * math.pi * i / k
    return radius * math.cos(angle), radius * math.sin(angle)


def _grid_coordinates(graph) -> dict[int, tuple[float, float]] | None:
    """Grid coordinates (column, -row) of each QPU if the link graph is a ``rows x cols`` grid
    with both sides at least 2, else None."""
    import networkx as nx  # noqa: PLC0415

    k = graph.number_of_nodes()
    if max(d for _, d in graph.degree) > 4:
        return None
    order = {j: i for i, j in enumerate(sorted(graph.nodes))}
    for rows in range(2, int(k ** 0.5) + 1):
        if k % rows:
            continue
        cols = k // rows
        if graph.number_of_edges() != 2 * rows * cols - rows - cols:
            continue
        matcher = nx.isomorphism.GraphMatcher(graph, nx.grid_2d_graph(rows, cols))
        if not matcher.is_isomorphic():
            continue
        # of the grid's few symmetries, the one closest to reading the QPUs row by row
        # (Network.grid puts qpu{r*cols+c} at (r, c)); the longer side across
        mapping = min(itertools.islice(matcher.isomorphisms_iter(), 8),
                      key=lambda m: sum(abs(order[j] - r * cols - c) for j, (r, c) in m.items()))
        return {j: (float(c), -float(r)) for j, (r, c) in mapping.items()}
    return None


def _pair(network: Network, u: int, v: int) -> str:
    a, b = sorted((network.qpus[u].name, network.qpus[v].name))
    return f"{a}-{b}"

