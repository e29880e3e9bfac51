"""Pictures: the communication schedule as a timeline, and the network with its traffic."""

from __future__ import annotations

import io
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
    figure, axes = plt.subplots(figsize=(6, 5))
    positions = nx.kamada_kawai_layout(graph) if graph.number_of_edges() else nx.circular_layout(graph)
    used = [load.get(_pair(network, u, v), 0) for u, v in graph.edges]
    top = max(used, default=0) or 1
    nx.draw_networkx_edges(graph, positions, ax=axes, width=[1 + 5 * w / top for w in used], edge_color="#5c6b73")
    nx.draw_networkx_edge_labels(
        graph, positions, ax=axes, font_size=8,
        edge_labels={(u, v): str(load.get(_pair(network, u, v), 0)) for u, v in graph.edges})
    sizes = [300 + 120 * q.data_qubits for q in network.qpus]
    nx.draw_networkx_nodes(graph, positions, ax=axes, node_size=sizes, node_color="#9db4c0")
    nx.draw_networkx_labels(graph, positions, ax=axes, font_size=8, labels={
        j: f"{q.name}\n{placed[q.name]}/{q.data_qubits} q\n{q.comm_qubits} comm" for j, q in enumerate(network.qpus)})
    axes.set_title(f"{report['input']['name']}: {report['cost']['ebits']} ebits (labels: ebits per link)")
    axes.axis("off")
    picture = _figure_bytes(figure, fmt)
    plt.close(figure)
    return picture


def _pair(network: Network, u: int, v: int) -> str:
    a, b = sorted((network.qpus[u].name, network.qpus[v].name))
    return f"{a}-{b}"

