"""Real QPUs inside: a QPU's coupling map, native gates, gate durations and where its comm qubits sit."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from .errors import DQCError

#: Native gates of a QPU given by a coupling map alone (IBM-like: ``cx`` + ``rz``/``sx``/``x``).
DEFAULT_BASIS = ("cx", "rz", "sx", "x")
#: Time units per second for durations read from a qiskit backend (they are in seconds): microseconds.
BACKEND_TIME_SCALE = 1e6
#: Most physical qubits a QPU may have.
MAX_PHYSICAL_QUBITS = 4096
_TOPOLOGY = re.compile(r"^(?P<kind>line|ring|grid|heavy_hex|heavy_square|all_to_all|full):(?P<shape>\d+(?:x\d+)?)$")
_BACKEND = re.compile(r"^generic:(?P<n>\d+)$")
#: Network-file keys that make a QPU a device (any one of them).
DEVICE_KEYS = ("backend", "coupling_map", "basis_gates", "gate_durations", "comm_physical", "physical_qubits")


@dataclass(frozen=True)
class Device:
    """The inside of one QPU: ``num_qubits`` physical qubits joined by ``edges`` (undirected),
    ``basis`` (native gate names), ``durations`` (``(gate name, time)`` pairs, network time units)
    and ``comm_physical`` (the physical qubits that hold ebits, in comm-qubit order). ``backend``
    names the qiskit backend it was read from (``generic:27``), if any; ``backend_seed`` its seed."""

    num_qubits: int
    edges: tuple[tuple[int, int], ...]
    basis: tuple[str, ...]
    comm_physical: tuple[int, ...]
    durations: tuple[tuple[str, float], ...] = ()
    backend: str | None = None
    backend_seed: int = 0
    topology: str | None = None

    @property
    def basis_2q(self) -> tuple[str, ...]:
        return tuple(name for name in self.basis if _width(name) == 2)

    def duration(self, name: str, default: float) -> float:
        """The time of one ``name`` operation (``default`` when the device gives none)."""
        return dict(self.durations).get(name, default)

    def coupling_map(self):
        """The qiskit :class:`~qiskit.transpiler.CouplingMap`, both directions of every edge."""
        return _coupling(self.num_qubits, self.edges)

    def distances(self):
        """Shortest-path distances between physical qubits (a numpy array)."""
        return _distances(self.num_qubits, self.edges)

    def qiskit_backend(self):
        """The qiskit ``GenericBackendV2`` this device was read from, or None."""
        if self.backend is None:
            return None
        return _generic_backend(self.num_qubits, self.edges, self.basis, self.backend_seed)

    def target(self):
        """A qiskit :class:`~qiskit.transpiler.Target` of this QPU alone: its basis on every qubit
        and edge, ``measure`` and ``reset`` everywhere, with the durations."""
        from qiskit.circuit import IfElseOp, Measure, Reset  # noqa: PLC0415
        from qiskit.circuit.library import get_standard_gate_name_mapping  # noqa: PLC0415
        from qiskit.transpiler import InstructionProperties, Target  # noqa: PLC0415

        standard = get_standard_gate_name_mapping()
        target = Target(num_qubits=self.num_qubits)
        pairs = {(a, b) for a, b in self.edges} | {(b, a) for a, b in self.edges}
        for name in self.basis:
            time = dict(self.durations).get(name)
            where = pairs if _width(name) == 2 else {(q,) for q in range(self.num_qubits)}
            target.add_instruction(standard[name], {qs: InstructionProperties(duration=time) for qs in sorted(where)})
        every = {(q,): None for q in range(self.num_qubits)}
        target.add_instruction(Measure(), dict(every))
        target.add_instruction(Reset(), dict(every))
        target.add_instruction(IfElseOp, name="if_else")
        return target


def _width(name: str) -> int:
    from qiskit.circuit.library import get_standard_gate_name_mapping  # noqa: PLC0415

    return get_standard_gate_name_mapping()[name].num_qubits


@functools.lru_cache(maxsize=64)
def _coupling(n: int, edges: tuple):
    from qiskit.transpiler import CouplingMap  # noqa: PLC0415

    both = sorted({(a, b) for a, b in edges} | {(b, a) for a, b in edges})
    return CouplingMap(both) if both else _lonely(n)


def _lonely(n: int):
    from qiskit.transpiler import CouplingMap  # noqa: PLC0415

    cmap = CouplingMap()
    for q in range(n):
        cmap.add_physical_qubit(q)
    return cmap


@functools.lru_cache(maxsize=64)
def _distances(n: int, edges: tuple):
    import numpy as np  # noqa: PLC0415
    import rustworkx as rx  # noqa: PLC0415

    graph = rx.PyGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from_no_data(list(edges))
    return np.asarray(rx.distance_matrix(graph, null_value=np.inf))


@functools.lru_cache(maxsize=16)
def _generic_backend(n: int, edges: tuple, basis: tuple, seed: int):
    from qiskit.providers.fake_provider import GenericBackendV2  # noqa: PLC0415

    both = sorted({(a, b) for a, b in edges} | {(b, a) for a, b in edges})
    return GenericBackendV2(n, basis_gates=list(basis), coupling_map=both, seed=seed)


def topology_edges(spec: str, where: str) -> tuple[int, list[tuple[int, int]]]:
    """``(physical qubits, edges)`` of a named topology: ``line:N``, ``ring:N``, ``grid:RxC``,
    ``heavy_hex:D``, ``heavy_square:D`` (odd code distance D, as qiskit's ``CouplingMap.from_*``),
    ``all_to_all:N`` (also ``full:N``)."""
    from qiskit.transpiler import CouplingMap  # noqa: PLC0415

    match = _TOPOLOGY.match(spec.strip())
    if not match:
        raise DQCError(f"{where}: coupling map '{spec}' not understood: expected a list of [a, b] edges or one of "
                       "line:N, ring:N, grid:RxC, heavy_hex:D, heavy_square:D, all_to_all:N")
    kind, numbers = match["kind"], [int(x) for x in match["shape"].split("x")]
    if (kind == "grid") != (len(numbers) == 2):
        raise DQCError(f"{where}: coupling map '{spec}': {'grid takes RxC' if kind == 'grid' else kind + ' takes one size'}")
    if kind in ("heavy_hex", "heavy_square") and (numbers[0] < 1 or numbers[0] % 2 == 0 or numbers[0] > 31):
        raise DQCError(f"{where}: coupling map '{spec}': {kind} takes an odd distance between 1 and 31")
    size = numbers[0] * (numbers[1] if len(numbers) == 2 else 1)
    if kind not in ("heavy_hex", "heavy_square") and not 1 <= size <= MAX_PHYSICAL_QUBITS:
        raise DQCError(f"{where}: coupling map '{spec}': between 1 and {MAX_PHYSICAL_QUBITS} qubits")
    if kind in ("all_to_all", "full"):
        return size, [(a, b) for a in range(size) for b in range(a + 1, size)]
    builder = {"line": CouplingMap.from_line, "ring": CouplingMap.from_ring, "grid": CouplingMap.from_grid,
               "heavy_hex": CouplingMap.from_heavy_hex, "heavy_square": CouplingMap.from_heavy_square}[kind]
    cmap = builder(*numbers, bidirectional=False) if kind != "ring" or size > 2 else CouplingMap.from_line(size)
    return cmap.size(), sorted({tuple(sorted(e)) for e in cmap.get_edges() if e[0] != e[1]})


def device_from_dict(raw: dict, where: str, data_qubits: int, comm_qubits: int | None) -> Device | None:
    """The device keys of one QPU object of a network file (None when it has none), checked.

    ``where`` is ``"<file>: qpus[i]"``; ``comm_qubits`` the QPU's ``comm_qubits`` key (None when absent).
    Every problem is a one-line :class:`DQCError`.
    """
    if not any(key in raw for key in DEVICE_KEYS):
        return None
    name = raw.get("name")
    from qiskit.circuit.library import get_standard_gate_name_mapping  # noqa: PLC0415

    standard = get_standard_gate_name_mapping()
    backend, seed, n, edges, topology = None, 0, None, None, None
    if "backend" in raw:
        spec = raw["backend"]
        match = _BACKEND.match(spec.strip()) if isinstance(spec, str) else None
        if not match:
            raise DQCError(f"{where}.backend: {spec!r} not understood: expected generic:N (qiskit's GenericBackendV2 "
                           "with N qubits; give 'coupling_map' for its topology)")
        backend, n = spec.strip(), int(match["n"])
        if not 1 <= n <= MAX_PHYSICAL_QUBITS:
            raise DQCError(f"{where}.backend: {n} qubits, expected 1 to {MAX_PHYSICAL_QUBITS}")
        seed = raw.get("backend_seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise DQCError(f"{where}.backend_seed: expected an integer >= 0, got {seed!r}")
    if "coupling_map" in raw:
        spec = raw["coupling_map"]
        if isinstance(spec, str):
            size, edges = topology_edges(spec, f"{where}.coupling_map")
            topology = spec.strip()
        elif isinstance(spec, list) and all(isinstance(e, list) and len(e) == 2 and all(
                isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in e) for e in spec):
            edges = sorted({tuple(sorted(e)) for e in spec})
            if any(a == b for a, b in edges):
                raise DQCError(f"{where}.coupling_map: edge [{edges[0][0]}, {edges[0][0]}] joins a qubit to itself")
            size = max((max(e) for e in edges), default=-1) + 1
        else:
            raise DQCError(f"{where}.coupling_map: expected a list of [a, b] qubit pairs or a topology such as "
                           "heavy_hex:3, line:7, grid:3x3, all_to_all:5")
        if n is None:
            n = size
        elif size > n:
            raise DQCError(f"{where}.coupling_map: names qubit {size - 1} but the backend has {n} qubits")
    if "physical_qubits" in raw:
        count = raw["physical_qubits"]
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PHYSICAL_QUBITS:
            raise DQCError(f"{where}.physical_qubits: expected an integer from 1 to {MAX_PHYSICAL_QUBITS}, got {count!r}")
        if n is not None and count < n:
            raise DQCError(f"{where}.physical_qubits: {count}, but the coupling map or backend has {n} qubits")
        n = count
    if n is None:
        raise DQCError(f"{where} ('{name}'): give 'coupling_map' or 'backend' with the device keys")
    if edges is None:  # a backend without a map: GenericBackendV2's default, every pair
        edges = [(a, b) for a in range(n) for b in range(a + 1, n)]
    basis = raw.get("basis_gates", list(DEFAULT_BASIS))
    if not isinstance(basis, list) or not basis or not all(isinstance(b, str) for b in basis):
        raise DQCError(f"{where}.basis_gates: expected a non-empty list of gate names")
    for gate in basis:
        if gate not in standard or standard[gate].num_qubits > 2 or gate in ("measure", "reset", "delay", "barrier"):
            raise DQCError(f"{where}.basis_gates: '{gate}' is not a one- or two-qubit qiskit standard gate")
    basis = tuple(dict.fromkeys(basis))
    if n > 1 and not any(standard[g].num_qubits == 2 for g in basis):
        raise DQCError(f"{where}.basis_gates: no two-qubit gate (add one such as cx, cz, ecr or rxx)")
    if not any(standard[g].num_qubits == 1 for g in basis):
        raise DQCError(f"{where}.basis_gates: no one-qubit gate (add rz and sx, or rz and ry)")
    durations = _durations(raw.get("gate_durations", {}), where, standard)
    if "comm_physical" in raw:
        comm = raw["comm_physical"]
        if not isinstance(comm, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in comm):
            raise DQCError(f"{where}.comm_physical: expected a list of physical qubit numbers")
        for c in comm:
            if not 0 <= c < n:
                raise DQCError(f"{where}.comm_physical: qubit {c} is not on the {n}-qubit coupling map")
        if len(set(comm)) != len(comm):
            raise DQCError(f"{where}.comm_physical: a qubit is listed twice")
        if comm_qubits is not None and comm_qubits != len(comm):
            raise DQCError(f"{where} ('{name}'): comm_qubits = {comm_qubits} but comm_physical lists {len(comm)}")
    else:
        count = 2 if comm_qubits is None else comm_qubits
        comm = list(range(n - count, n)) if count <= n else []
        if count > n:
            raise DQCError(f"{where} ('{name}'): {n} physical qubits cannot hold {data_qubits} data + {count} comm qubits")
    if n < data_qubits + len(comm):
        raise DQCError(f"{where} ('{name}'): {n} physical qubits cannot hold {data_qubits} data + {len(comm)} comm qubits")
    _check_connected(n, edges, where, name)
    if backend is not None:  # the backend's own durations (seconds) in microseconds, unless given
        target = _generic_backend(n, tuple(edges), basis, seed).target
        known = dict(durations)
        for gate in (*basis, "measure"):
            times = [p.duration for p in (target[gate].values() if gate in target else []) if p and p.duration]
            if gate not in known and times:
                known[gate] = round(sum(times) / len(times) * BACKEND_TIME_SCALE, 6)
        durations = tuple(sorted(known.items()))
    return Device(n, tuple(edges), basis, tuple(comm), tuple(sorted(dict(durations).items())), backend, seed, topology)


def _durations(raw: Any, where: str, standard: dict) -> tuple:
    if not isinstance(raw, dict):
        raise DQCError(f"{where}.gate_durations: expected an object of gate name -> time")
    out = []
    for gate, time in raw.items():
        if gate not in standard and gate not in ("measure", "reset", "swap"):
            raise DQCError(f"{where}.gate_durations: unknown gate '{gate}'")
        import math  # noqa: PLC0415

        if isinstance(time, bool) or not isinstance(time, (int, float)) or not math.isfinite(time) or time < 0:
            raise DQCError(f"{where}.gate_durations.{gate}: expected a non-negative number, got {time!r}")
        out.append((gate, float(time)))
    return tuple(out)


def _check_connected(n: int, edges, where: str, name) -> None:
    import rustworkx as rx  # noqa: PLC0415

    graph = rx.PyGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from_no_data(list(edges))
    components = sorted((sorted(c) for c in rx.connected_components(graph)), key=lambda c: c[0])
    if len(components) > 1:
        away = sorted(q for c in components[1:] for q in c)
        shown = ", ".join(map(str, away[:5])) + (" ..." if len(away) > 5 else "")
        raise DQCError(f"{where} ('{name}'): the coupling map is not connected (qubit{'s' if len(away) > 1 else ''} "
                       f"{shown} cannot be reached from qubit 0)")


def backend_noise(device: Device) -> dict:
    """The QPU noise keys (docs/noise.md) of a device read from a qiskit backend: the means over its
    qubits and edges of the backend's error rates and T1/T2 (seconds, in microseconds like its
    durations). A backend gate ``error`` is an average gate infidelity; the depolarizing
    probability with that infidelity is ``error * d / (d - 1)`` (``d = 2^k``)."""
    backend = device.qiskit_backend()
    if backend is None:
        return {}
    target = backend.target

    def mean_error(names, width):
        errors = [p.error for name in names if name in target and _width(name) == width
                  for p in target[name].values() if p is not None and p.error]
        return sum(errors) / len(errors) if errors else 0.0

    d1, d2 = 2, 4
    noise = {"gate_error_1q": min(1.0, mean_error(device.basis, 1) * d1 / (d1 - 1)),
             "gate_error_2q": min(1.0, mean_error(device.basis, 2) * d2 / (d2 - 1))}
    readout = [p.error for p in target["measure"].values() if p is not None and p.error] if "measure" in target else []
    noise["readout_error"] = sum(readout) / len(readout) if readout else 0.0
    props = [backend.qubit_properties(q) for q in range(device.num_qubits)]
    t1 = [p.t1 for p in props if p is not None and p.t1]
    t2 = [p.t2 for p in props if p is not None and p.t2]
    if t1:
        noise["t1"] = sum(t1) / len(t1) * BACKEND_TIME_SCALE
        if t2:
            noise["t2"] = min(sum(t2) / len(t2) * BACKEND_TIME_SCALE, 2 * noise["t1"])
    return {key: round(value, 12) for key, value in noise.items()}


def comm_positions(network, initial: list, sizes: dict) -> set:
    """``{(QPU index, register index)}`` of every comm qubit of a distributed circuit: a device's
    ``comm_physical``, else the register's slots after its data qubits. ``initial`` is the layout's
    ``[(QPU index, slot)]``, ``sizes`` the register size per QPU name."""
    counts = [0] * network.num_qpus
    for j, _slot in initial:
        counts[j] += 1
    found = set()
    for j, qpu in enumerate(network.qpus):
        size = sizes.get(qpu.name, 0)
        if qpu.device is not None:
            found |= {(j, p) for p in qpu.device.comm_physical}
        else:
            found |= {(j, s) for s in range(counts[j], size)}
    return found
