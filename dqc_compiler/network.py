"""The network model: QPUs with data and communication qubits, and the links between them."""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import networkx as nx
from qiskit.transpiler import Target

from .devices import Device, backend_noise, device_from_dict
from .errors import DQCError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Words that cannot name an OpenQASM 3 register.
_RESERVED = {
    "qubit", "bit", "qreg", "creg", "gate", "measure", "reset", "barrier", "if", "else", "for", "while",
    "int", "uint", "float", "angle", "bool", "const", "input", "output", "include", "def", "return",
    "pi", "euler", "tau", "U", "CX", "let", "box", "delay", "stretch", "duration", "complex", "array",
}

DEFAULT_COMM_QUBITS = 2
DEFAULT_GATE_TIME = 1.0
DEFAULT_MEASURE_TIME = 1.0
DEFAULT_EBIT_TIME = 10.0
DEFAULT_CLASSICAL_TIME = 1.0

#: Input limits (docs/network.md): more QPUs or comm qubits than any circuit the compiler handles can
#: use are refused up front, before any work, rather than allocated.
MAX_QPUS = 256
MAX_COMM_QUBITS = 1024
#: A network file larger than this is refused before it is read.
MAX_NETWORK_FILE_BYTES = 16 * 1024 * 1024

#: The presets of :meth:`Network.from_spec` (``--network line:4x8``).
PRESETS = ("all_to_all", "line", "ring", "star", "grid")
_SPEC = re.compile(r"^(?P<kind>" + "|".join(PRESETS) + r"):(?P<shape>\d+(?:x\d+)*)(?:,comm=(?P<comm>\d+))?$")


@dataclass(frozen=True)
class QPU:
    """One quantum processor: ``data_qubits`` hold the computation, ``comm_qubits`` hold ebits.

    Noise (all optional, noiseless by default; see docs/noise.md): ``gate_error_1q`` and
    ``gate_error_2q`` are depolarizing probabilities of its one- and two-qubit gates,
    ``readout_error`` the chance a measurement reports the wrong bit, ``t1`` and ``t2`` the
    relaxation and coherence times of its idle qubits, in the network's time units.
    """

    name: str
    data_qubits: int
    comm_qubits: int = DEFAULT_COMM_QUBITS
    gate_time: float = DEFAULT_GATE_TIME
    measure_time: float = DEFAULT_MEASURE_TIME
    gate_error_1q: float = 0.0
    gate_error_2q: float = 0.0
    readout_error: float = 0.0
    t1: float = math.inf
    t2: float = math.inf
    #: The inside of the QPU (coupling map, native gates, comm qubits' places), or None: all-to-all,
    #: every gate native (:mod:`dqc_compiler.devices`).
    device: Device | None = None

    @property
    def noiseless(self) -> bool:
        return not (self.gate_error_1q or self.gate_error_2q or self.readout_error) and self.t1 == self.t2 == math.inf


@dataclass(frozen=True)
class Link:
    """A quantum channel that creates ebits between two QPUs (and a classical channel beside it)."""

    between: tuple[str, str]
    ebit_time: float = DEFAULT_EBIT_TIME
    fidelity: float = 1.0
    classical_time: float = DEFAULT_CLASSICAL_TIME
    success_probability: float = 1.0
    #: Coherence time of a stored half of this link's pairs (pure dephasing), infinite by default.
    pair_dephasing_time: float = math.inf

    @property
    def noiseless(self) -> bool:
        return self.fidelity == 1.0 and self.pair_dephasing_time == math.inf

    @property
    def expected_ebit_time(self) -> float:
        """Mean time to herald one ebit: ``ebit_time`` per attempt over the success probability."""
        return self.ebit_time / self.success_probability

    @property
    def werner(self) -> float:
        """The Werner parameter ``(4F - 1) / 3`` of this link's pairs; swapping multiplies them."""
        return (4 * self.fidelity - 1) / 3


@dataclass(frozen=True)
class Route:
    """How an ebit between two QPUs is made: ``path`` (QPU indices, ends included), one link-level
    ebit per hop and an entanglement swap on every intermediate QPU."""

    path: tuple[int, ...]
    fidelity: float
    classical_time: float

    @property
    def hops(self) -> int:
        return len(self.path) - 1

    @property
    def relays(self) -> tuple[int, ...]:
        return self.path[1:-1]


@dataclass(repr=False)
class Network:
    """QPUs and links. Build with :meth:`all_to_all`, :meth:`from_dict` or :meth:`from_file`."""

    qpus: list[QPU]
    links: list[Link] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.validate()

    def __repr__(self) -> str:
        # qiskit freezes a pass's init arguments with repr(): keep that cheap on large networks
        if len(self.qpus) + len(self.links) <= 64:
            return f"Network(qpus={self.qpus!r}, links={self.links!r})"
        return f"<Network of {len(self.qpus)} QPUs and {len(self.links)} links at {id(self):#x}>"

    # ------------------------------------------------------------------ constructors
    @classmethod
    def all_to_all(cls, k: int, data_qubits: int, comm_qubits: int = DEFAULT_COMM_QUBITS) -> "Network":
        """``k`` equal QPUs named ``qpu0 .. qpu{k-1}``, every pair linked."""
        qpus = _equal_qpus(k, data_qubits, comm_qubits)
        links = [Link((a.name, b.name)) for a, b in itertools.combinations(qpus, 2)]
        return cls(qpus, links)

    @classmethod
    def line(cls, k: int, data_qubits: int, comm_qubits: int = DEFAULT_COMM_QUBITS) -> "Network":
        """``k`` equal QPUs in a chain: ``qpu0 - qpu1 - ... - qpu{k-1}``."""
        qpus = _equal_qpus(k, data_qubits, comm_qubits)
        return cls(qpus, [Link((qpus[i].name, qpus[i + 1].name)) for i in range(k - 1)])

    @classmethod
    def ring(cls, k: int, data_qubits: int, comm_qubits: int = DEFAULT_COMM_QUBITS) -> "Network":
        """A :meth:`line` whose ends are linked too (for ``k >= 3``)."""
        net = cls.line(k, data_qubits, comm_qubits)
        if k >= 3:
            net.links.append(Link((net.qpus[-1].name, net.qpus[0].name)))
        return net

    @classmethod
    def star(
        cls, k: int, data_qubits: int, comm_qubits: int = DEFAULT_COMM_QUBITS, hub_comm_qubits: int | None = None
    ) -> "Network":
        """``qpu0`` is the hub, linked to each of ``qpu1 .. qpu{k-1}``. The hub relays every
        leaf-to-leaf ebit, so it gets ``hub_comm_qubits`` (default: twice ``comm_qubits``)."""
        qpus = _equal_qpus(k, data_qubits, comm_qubits)
        hub = 2 * comm_qubits if hub_comm_qubits is None else hub_comm_qubits
        qpus[0] = QPU(qpus[0].name, data_qubits, hub)
        return cls(qpus, [Link((qpus[0].name, q.name)) for q in qpus[1:]])

    @classmethod
    def grid(cls, rows: int, cols: int, data_qubits: int, comm_qubits: int = DEFAULT_COMM_QUBITS) -> "Network":
        """``rows x cols`` QPUs, each linked to its neighbours; ``qpu{r*cols+c}`` sits at (r, c)."""
        if not isinstance(rows, int) or rows < 1 or not isinstance(cols, int) or cols < 1:
            raise DQCError(f"grid shape must be positive integers, got {rows!r} x {cols!r}")
        qpus = _equal_qpus(rows * cols, data_qubits, comm_qubits)
        links = []
        for r in range(rows):
            for c in range(cols):
                here = qpus[r * cols + c].name
                if c + 1 < cols:
                    links.append(Link((here, qpus[r * cols + c + 1].name)))
                if r + 1 < rows:
                    links.append(Link((here, qpus[(r + 1) * cols + c].name)))
        return cls(qpus, links)

    @classmethod
    def from_spec(cls, spec: str, num_qubits: int | None = None) -> "Network":
        """A preset from its command-line form ``KIND:SHAPE[xDATA][,comm=C]``.

        ``all_to_all:4x8``, ``line:4x8``, ``ring:6x4``, ``star:5x8`` (4 QPUs x 8 data qubits, one
        QPU per term), ``grid:2x3x8`` (2 rows, 3 columns, 8 data qubits each). Without the data
        size (``line:4``, ``grid:2x3``) each QPU holds ``ceil(num_qubits / QPUs)``.
        """
        match = _SPEC.match(spec.strip())
        if not match:
            raise DQCError(
                f"network preset '{spec}' not understood: expected KIND:SHAPE[xDATA][,comm=C] with KIND one of "
                f"{', '.join(PRESETS)} (e.g. line:4x8, grid:2x2x4, star:5x8,comm=1)"
            )
        kind, numbers, comm = match["kind"], [int(x) for x in match["shape"].split("x")], match["comm"]
        comm_qubits = DEFAULT_COMM_QUBITS if comm is None else int(comm)
        shape_len = 2 if kind == "grid" else 1
        if len(numbers) not in (shape_len, shape_len + 1):
            form = "ROWSxCOLS[xDATA]" if kind == "grid" else "K[xDATA]"
            raise DQCError(f"network preset '{spec}': {kind} takes {form}")
        shape = numbers[:shape_len]
        size = math.prod(shape)
        if size < 1:
            raise DQCError(f"network preset '{spec}': needs at least one QPU")
        if size > MAX_QPUS:
            raise DQCError(f"network preset '{spec}': {size} QPUs, at most {MAX_QPUS} are supported")
        if len(numbers) > shape_len:
            data = numbers[-1]
        elif num_qubits is not None:
            data = max(1, math.ceil(num_qubits / size))
        else:
            raise DQCError(f"network preset '{spec}': give the data qubits per QPU (e.g. {spec}x8)")
        if data < 1:
            raise DQCError(f"network preset '{spec}': data qubits per QPU must be positive")
        if kind == "grid":
            return cls.grid(shape[0], shape[1], data, comm_qubits)
        return getattr(cls, kind)(shape[0], data, comm_qubits)

    @classmethod
    def for_circuit(cls, num_qubits: int, k: int, comm_qubits: int = DEFAULT_COMM_QUBITS) -> "Network":
        """What ``--qpus K`` means: ``k`` all-to-all QPUs of capacity ``ceil(n / k)``."""
        if not isinstance(k, int) or k < 1:
            raise DQCError(f"--qpus must be a positive integer, got {k}")
        return cls.all_to_all(k, max(1, math.ceil(num_qubits / k)), comm_qubits)

    @classmethod
    def from_dict(cls, data: Any, source: str = "network") -> "Network":
        """Read the JSON network schema (see docs/network.md); ``source`` names it in errors."""
        if not isinstance(data, dict):
            raise DQCError(f"{source}: expected a JSON object with a 'qpus' list")
        raw_qpus = data.get("qpus")
        if not isinstance(raw_qpus, list) or not raw_qpus:
            raise DQCError(f"{source}: 'qpus' must be a non-empty list")
        if len(raw_qpus) > MAX_QPUS:
            raise DQCError(f"{source}: {len(raw_qpus)} QPUs, at most {MAX_QPUS} are supported")
        qpus = []
        for i, raw in enumerate(raw_qpus):
            where = f"{source}: qpus[{i}]"
            if not isinstance(raw, dict):
                raise DQCError(f"{where}: expected an object")
            if "name" not in raw or not isinstance(raw["name"], str):
                raise DQCError(f"{where}: missing string 'name'")
            if "data_qubits" not in raw:
                raise DQCError(f"{where} ('{raw['name']}'): missing 'data_qubits'")
            data_qubits = _count(raw["data_qubits"], f"{where}.data_qubits", minimum=0)
            comm_qubits = (_count(raw["comm_qubits"], f"{where}.comm_qubits", 0, maximum=MAX_COMM_QUBITS)
                           if "comm_qubits" in raw else None)
            device = device_from_dict(raw, where, data_qubits, comm_qubits)
            noise = _qpu_noise(raw, where)
            if device is not None:
                comm_qubits = len(device.comm_physical)
                if device.backend and not any(key in raw for key in _NOISE_KEYS):  # the backend's own rates
                    noise.update(backend_noise(device))
            qpus.append(
                QPU(
                    name=raw["name"],
                    data_qubits=data_qubits,
                    comm_qubits=DEFAULT_COMM_QUBITS if comm_qubits is None else comm_qubits,
                    device=device,
                    gate_time=_time(raw.get("gate_time", DEFAULT_GATE_TIME), f"{where}.gate_time"),
                    measure_time=_time(raw.get("measure_time", DEFAULT_MEASURE_TIME), f"{where}.measure_time"),
                    **noise,
                )
            )
        names = [q.name for q in qpus]
        if "links" not in data:
            links = [Link((a, b)) for a, b in itertools.combinations(names, 2)]
        else:
            raw_links = data["links"]
            if not isinstance(raw_links, list):
                raise DQCError(f"{source}: 'links' must be a list")
            if len(raw_links) > MAX_QPUS * (MAX_QPUS - 1) // 2:
                raise DQCError(f"{source}: {len(raw_links)} links, more than {MAX_QPUS} QPUs can have")
            links = []
            for i, raw in enumerate(raw_links):
                where = f"{source}: links[{i}]"
                pair = raw.get("between") if isinstance(raw, dict) else raw
                if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                    raise DQCError(f"{where}: 'between' must be a list of two QPU names")
                extra = raw if isinstance(raw, dict) else {}
                fidelity = _time(extra.get("fidelity", 1.0), f"{where}.fidelity")
                if fidelity > 1.0:
                    raise DQCError(f"{where}.fidelity: must be at most 1, got {fidelity}")
                success = _time(extra.get("success_probability", 1.0), f"{where}.success_probability")
                if not 0.0 < success <= 1.0:
                    raise DQCError(f"{where}.success_probability: must be in (0, 1], got {success}")
                links.append(
                    Link(
                        (pair[0], pair[1]),
                        ebit_time=_time(extra.get("ebit_time", DEFAULT_EBIT_TIME), f"{where}.ebit_time"),
                        fidelity=fidelity,
                        classical_time=_time(extra.get("classical_time", DEFAULT_CLASSICAL_TIME), f"{where}.classical_time"),
                        success_probability=success,
                        pair_dephasing_time=_lifetime(extra, "pair_dephasing_time", where),
                    )
                )
        _validate_source(qpus, links, source)
        return cls(qpus, links)

    @classmethod
    def from_file(cls, path: str | Path) -> "Network":
        """Load a network JSON file; every problem is a one-line :class:`DQCError` naming the file."""
        path = Path(path)
        try:
            text = read_limited(path, MAX_NETWORK_FILE_BYTES).decode("utf-8")
        except FileNotFoundError:
            raise DQCError(f"{path}: network file not found") from None
        except IsADirectoryError:
            raise DQCError(f"{path}: is a directory, expected a network file (.json)") from None
        except UnicodeDecodeError:
            raise DQCError(f"{path}: not a text file (JSON network expected)") from None
        except OSError as exc:
            raise DQCError(f"{path}: cannot read network file ({exc.strerror})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DQCError(f"{path}:{exc.lineno}: malformed network JSON: {exc.msg}") from None
        except RecursionError:
            raise DQCError(f"{path}: network JSON nested too deeply") from None
        return cls.from_dict(data, source=str(path))

    # ------------------------------------------------------------------ queries
    def validate(self) -> None:
        """Check names and links; raise :class:`DQCError` on the first problem."""
        _validate_source(self.qpus, self.links, "network")

    @property
    def num_qpus(self) -> int:
        return len(self.qpus)

    @property
    def capacity(self) -> int:
        """Data qubits in the whole network."""
        return sum(q.data_qubits for q in self.qpus)

    def _cache_key(self) -> tuple:
        """Cheap identity of the QPU and link lists, so caches notice a network that was changed."""
        ends = tuple(id(x) for seq in (self.qpus, self.links) for x in (seq[:1] + seq[-1:]))
        return (id(self.qpus), len(self.qpus), id(self.links), len(self.links), ends)

    def index(self, name: str) -> int:
        """Position of the QPU called ``name``."""
        key = self._cache_key()
        cached = getattr(self, "_index_cache", None)
        if cached is None or cached[0] != key:
            positions: dict[str, int] = {}
            for i, q in enumerate(self.qpus):
                positions.setdefault(q.name, i)
            cached = (key, positions)
            object.__setattr__(self, "_index_cache", cached)
        if name not in cached[1]:
            raise DQCError(f"network: no QPU named '{name}'")
        return cached[1][name]

    def graph(self) -> nx.Graph:
        """The link graph over QPU indices; edges carry their :class:`Link` as ``link``."""
        g = nx.Graph()
        g.add_nodes_from(range(self.num_qpus))
        position = {q.name: i for i, q in reversed(list(enumerate(self.qpus)))}
        for link in self.links:
            a, b = link.between
            if a not in position or b not in position:
                self.index(b if a in position else a)  # the one-line error
            g.add_edge(position[a], position[b], link=link)
        return g

    def link(self, a: int, b: int) -> Link | None:
        """The link between QPUs ``a`` and ``b`` (indices), or None."""
        key = self._cache_key()
        cached = getattr(self, "_link_cache", None)
        if cached is None or cached[0] != key:
            table = {}
            self.index(self.qpus[0].name)  # fills the name -> position cache
            position = self._index_cache[1]
            for link in self.links:
                i, j = position[link.between[0]], position[link.between[1]]
                table[(i, j)] = table[(j, i)] = link
            cached = (key, table)
            object.__setattr__(self, "_link_cache", cached)
        return cached[1].get((a, b))

    def _tables(self) -> dict:
        """Per-source caches of routes and classical latencies, filled on demand (so the cost follows
        the QPUs a compilation really uses, not the size of the network)."""
        key = self._cache_key()
        cached = getattr(self, "_table_cache", None)
        if cached is None or cached[0] != key:
            graph = self.graph()
            cached = (key, {"routes": {}, "latency": {}, "graph": graph})
            object.__setattr__(self, "_table_cache", cached)
        return cached[1]

    def route(self, a: int, b: int) -> Route | None:
        """How QPUs ``a`` and ``b`` share an ebit, or None if they cannot.

        Over a direct link when there is one (and its fidelity is the best), else by entanglement
        swapping along a path. A relay holds two halves at once, so only QPUs with at least two
        comm qubits relay. Paths maximise the end-to-end Werner parameter (the product of the
        links' ``(4F - 1) / 3``), then minimise hops; links with ``F <= 1/4`` carry no entanglement.
        """
        if a > b:  # one search per pair, from its lower end, as the route back is the same path
            route = self.route(b, a)
            return None if route is None else Route(tuple(reversed(route.path)), route.fidelity, route.classical_time)
        routes = self._routes_from(a)
        if routes is None and a != b:  # every best route is the direct link: no search
            link = self.link(a, b)
            return Route((a, b), (3 * link.werner + 1) / 4, link.classical_time)
        return routes.get(b)

    def _routes_from(self, a: int) -> _LazyRoutes | None:
        """The routes from QPU ``a`` (searched once, on demand), or None when every best route is a direct link."""
        tables = self._tables()
        if "direct" not in tables:
            tables["direct"] = self._all_direct()
        if tables["direct"]:
            return None
        if "graphs" not in tables:
            tables["graphs"] = _route_graphs(self, tables["graph"])
        if a not in tables["routes"]:
            tables["routes"][a] = _routes_from(self, tables["graphs"], a)
        return tables["routes"][a]

    def distance(self, a: int, b: int) -> float:
        """Link-level ebits one ebit between ``a`` and ``b`` costs (hops; 0 on one QPU; inf if none).
        Read from the searched path's length, without building the :class:`Route`."""
        if a == b:
            return 0
        routes = self._routes_from(min(a, b))
        if routes is None:
            return 1
        path = routes.paths.get(max(a, b))
        return math.inf if path is None else len(path) - 1

    def copy_cost(self, home: int, remote: int) -> int | None:
        """Link-level ebits (``epr`` operations) one cat-entangled copy from QPU ``home`` to QPU
        ``remote`` costs, or None when it cannot be made: both ends need a comm qubit and a
        :meth:`route` must join them. The one rule of where a copy may go and what it costs,
        shared by the protocol insertion and the certified optimum."""
        if home == remote:
            return 0
        if self.qpus[home].comm_qubits == 0 or self.qpus[remote].comm_qubits == 0:
            return None
        route = self.route(home, remote)
        return None if route is None else route.hops

    def is_uniform(self) -> bool:
        """True when every two QPUs are linked directly (all distances are 1)."""
        k = self.num_qpus
        tables = self._tables()
        if "direct" not in tables:
            tables["direct"] = self._all_direct()
        if tables["direct"]:
            return True
        if len({frozenset(link.between) for link in self.links}) < k * (k - 1) // 2:
            return False  # some pair has no direct link
        return all(self.distance(a, b) == 1 for a in range(k) for b in range(k) if a != b)

    def _all_direct(self) -> bool:
        """True when every two QPUs are linked and all links are equal and carry entanglement: then
        the direct link is every pair's best route (a detour multiplies Werner parameters <= 1)."""
        k = self.num_qpus
        if len({frozenset(link.between) for link in self.links}) < k * (k - 1) // 2:
            return False
        return len({link.werner for link in self.links}) <= 1 and all(link.werner > 0 for link in self.links)

    def classical_latency(self, a: int, b: int) -> float:
        """Time for a classical bit from ``a`` to ``b``: the fastest path of classical channels."""
        if a == b:
            return 0.0
        tables = self._tables()
        latency = tables["latency"]
        if "flat" not in tables:  # every pair linked, every link as fast: the direct link is fastest
            times = {link.classical_time for link in self.links}
            complete = len({frozenset(link.between) for link in self.links}) == self.num_qpus * (self.num_qpus - 1) // 2
            tables["flat"] = times.pop() if complete and len(times) == 1 else None
        if tables["flat"] is not None:
            return tables["flat"]
        if a not in latency:
            latency[a] = nx.single_source_dijkstra_path_length(
                self._tables()["graph"], a, weight=lambda u, v, d: d["link"].classical_time)
        return latency[a].get(b, DEFAULT_CLASSICAL_TIME)

    def to_target(self) -> DQCTarget:
        """A qiskit :class:`~qiskit.transpiler.Target` of this machine.

        Physical qubits are numbered QPU by QPU, in network order: each QPU's ``data_qubits``,
        then its ``comm_qubits`` (the register layout of the compiler's output). One-qubit gates
        of :data:`~dqc_compiler.gates.BASIS_1Q`, ``measure`` and ``reset`` act on every qubit;
        the two-qubit gates of :data:`~dqc_compiler.gates.BASIS_2Q` on every ordered pair inside
        one QPU; ``epr`` on every ordered pair of comm qubits of two linked QPUs, with the link's
        ``ebit_time`` as its duration; ``if_else`` anywhere. Gates on three qubits are left out
        (the compiler decomposes them for targets). The target is a :class:`DQCTarget`: its
        ``network`` attribute is this network, which the ``dqc`` transpiler plugins read
        (:mod:`dqc_compiler.plugin`). It pickles, network included, as ``transpile(...,
        num_processes=2)`` requires.
        """
        from qiskit.circuit import IfElseOp, Measure, Reset  # noqa: PLC0415 - keep import time low
        from qiskit.circuit.library import get_standard_gate_name_mapping  # noqa: PLC0415
        from qiskit.transpiler import InstructionProperties  # noqa: PLC0415

        from .gates import BASIS_1Q, BASIS_2Q, EPRGate  # noqa: PLC0415

        ranges, start = [], 0
        for qpu in self.qpus:
            ranges.append((start, start + qpu.data_qubits, start + qpu.data_qubits + qpu.comm_qubits))
            start += qpu.data_qubits + qpu.comm_qubits
        target = DQCTarget(description=f"dqc network of {self.num_qpus} QPUs", num_qubits=start, network=self)
        standard = get_standard_gate_name_mapping()
        every = {(q,): None for q in range(start)}
        for name in BASIS_1Q:
            target.add_instruction(standard[name], dict(every))
        target.add_instruction(Measure(), dict(every))
        target.add_instruction(Reset(), dict(every))
        pairs = {}
        for (first, _, end), qpu in zip(ranges, self.qpus):
            for a in range(first, end):
                for b in range(first, end):
                    if a != b:
                        pairs[(a, b)] = InstructionProperties(duration=qpu.gate_time)
        for name in BASIS_2Q:
            target.add_instruction(standard[name], dict(pairs))
        eprs = {}
        for link in self.links:
            i, j = self.index(link.between[0]), self.index(link.between[1])
            for x, y in ((i, j), (j, i)):
                for a in range(ranges[x][1], ranges[x][2]):
                    for b in range(ranges[y][1], ranges[y][2]):
                        eprs[(a, b)] = InstructionProperties(duration=link.ebit_time)
        target.add_instruction(EPRGate(), eprs or None)
        target.add_instruction(IfElseOp, name="if_else")
        return target

    def with_comm_qubits(self, comm_qubits: int) -> "Network":
        """The same network with at least ``comm_qubits`` comm qubits on every QPU."""
        from dataclasses import replace  # noqa: PLC0415

        return Network([replace(q, comm_qubits=max(q.comm_qubits, comm_qubits)) for q in self.qpus], list(self.links))

    def with_noise(
        self,
        *,
        gate_error_1q: float | None = None,
        gate_error_2q: float | None = None,
        readout_error: float | None = None,
        t1: float | None = None,
        t2: float | None = None,
        link_fidelity: float | None = None,
        pair_dephasing_time: float | None = None,
    ) -> "Network":
        """The same network with the given noise on every QPU and link (None keeps a value)."""
        from dataclasses import replace  # noqa: PLC0415

        qpu_values = {"gate_error_1q": gate_error_1q, "gate_error_2q": gate_error_2q,
                      "readout_error": readout_error, "t1": t1, "t2": t2}
        link_values = {"fidelity": link_fidelity, "pair_dephasing_time": pair_dephasing_time}
        qpu_changes = {k: v for k, v in qpu_values.items() if v is not None}
        link_changes = {k: v for k, v in link_values.items() if v is not None}
        qpus = [replace(q, **qpu_changes) for q in self.qpus]
        links = [replace(link, **link_changes) for link in self.links]
        for q in qpus:
            _check_qpu_noise(q, "network")
        for link in links:
            if not 0.0 <= link.fidelity <= 1.0:
                raise DQCError(f"network: link fidelity must be in [0, 1], got {link.fidelity}")
        return Network(qpus, links)

    @property
    def noiseless(self) -> bool:
        """True when no QPU or link carries noise (the default)."""
        return all(q.noiseless for q in self.qpus) and all(link.noiseless for link in self.links)

    def describe_link(self, link: Link) -> dict:
        """A link as the network file writes it (every key)."""
        data = {"between": list(link.between), "ebit_time": link.ebit_time, "fidelity": link.fidelity,
                "classical_time": link.classical_time, "success_probability": link.success_probability}
        if link.pair_dephasing_time != math.inf:
            data["pair_dephasing_time"] = link.pair_dephasing_time
        return data

    @property
    def has_devices(self) -> bool:
        """True when some QPU has a coupling map and native gates (:mod:`dqc_compiler.devices`)."""
        return any(q.device is not None for q in self.qpus)

    def to_dict(self) -> dict:
        """The report's ``network`` field (a QPU with a device adds its ``device`` summary)."""
        qpus = []
        for q in self.qpus:
            entry = {"name": q.name, "data_qubits": q.data_qubits, "comm_qubits": q.comm_qubits}
            if q.device is not None:
                d = q.device
                entry["device"] = {"physical_qubits": d.num_qubits, "edges": len(d.edges), "basis_gates": list(d.basis),
                                   "comm_physical": list(d.comm_physical)}
                if d.backend:
                    entry["device"]["backend"] = d.backend
                if d.topology:
                    entry["device"]["coupling_map"] = d.topology
            qpus.append(entry)
        return {"qpus": qpus, "links": [list(link.between) for link in self.links]}


def _route_graphs(network: Network, links: nx.Graph) -> tuple[nx.Graph, set[int]]:
    """The graph of links that carry entanglement (weighted for :func:`_routes_from`) and the relays."""
    graph = nx.Graph()
    graph.add_nodes_from(range(network.num_qpus))
    for u, v, data in links.edges(data=True):
        if data["link"].werner > 0:
            # -log of the Werner parameter, plus a tiny cost per hop so that ties go to fewer hops
            graph.add_edge(u, v, weight=-math.log(data["link"].werner) + 1e-9, link=data["link"])
    relays = {j for j, q in enumerate(network.qpus) if q.comm_qubits >= 2}
    return graph, relays


def _routes_from(network: Network, graphs: tuple[nx.Graph, set[int]], a: int) -> dict[int, Route]:
    """Routes from QPU ``a`` to every QPU it can share an ebit with: best paths whose inner QPUs relay.

    One Dijkstra from ``a`` over a directed copy of the graph in which only ``a`` and relays have
    outgoing edges; it finds, tie for tie, the path a Dijkstra from ``a`` to ``b`` over the relays
    plus ``{a, b}`` finds, for every ``b`` at once.
    """
    graph, relays = graphs
    directed = nx.DiGraph()
    directed.add_nodes_from(graph)
    for u in graph:
        if u == a or u in relays:
            for v, data in graph.adj[u].items():
                directed.add_edge(u, v, weight=data["weight"])
    _, paths = nx.single_source_dijkstra(directed, a)
    paths.pop(a, None)
    return _LazyRoutes(graph, paths)


class _LazyRoutes(dict):
    """Routes from one QPU, each built from its path the first time it is asked for."""

    def __init__(self, graph: nx.Graph, paths: dict[int, list[int]]):
        super().__init__()
        self.graph, self.paths = graph, paths

    def get(self, b: int, default: Route | None = None) -> Route | None:  # type: ignore[override]
        if b not in self and b in self.paths:
            path = self.paths[b]
            links = [self.graph[u][v]["link"] for u, v in zip(path, path[1:])]
            werner = math.prod(link.werner for link in links)
            self[b] = Route(tuple(path), (3 * werner + 1) / 4, sum(link.classical_time for link in links))
        return super().get(b, default)


def _equal_qpus(k: int, data_qubits: int, comm_qubits: int) -> list[QPU]:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise DQCError(f"number of QPUs must be a positive integer, got {k!r}")
    if k > MAX_QPUS:
        raise DQCError(f"{k} QPUs: at most {MAX_QPUS} are supported")
    if isinstance(data_qubits, bool) or not isinstance(data_qubits, int) or data_qubits < 1:
        raise DQCError(f"data qubits per QPU must be a positive integer, got {data_qubits!r}")
    if isinstance(comm_qubits, bool) or not isinstance(comm_qubits, int) or comm_qubits < 0:
        raise DQCError(f"comm qubits per QPU must be a non-negative integer, got {comm_qubits!r}")
    if comm_qubits > MAX_COMM_QUBITS:
        raise DQCError(f"{comm_qubits} comm qubits per QPU: at most {MAX_COMM_QUBITS} are supported")
    return [QPU(f"qpu{i}", data_qubits, comm_qubits) for i in range(k)]


class DQCTarget(Target):
    """A qiskit :class:`~qiskit.transpiler.Target` that knows the :class:`Network` it models.

    Built by :meth:`Network.to_target`. Qiskit's own passes see an ordinary target; the ``dqc``
    layout and routing plugins (:mod:`dqc_compiler.plugin`) read ``target.network``. Pickling
    keeps the network, so ``transpile(..., num_processes=2)`` works.
    """

    def __new__(cls, *args: Any, network: Network | None = None, **kwargs: Any):
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args: Any, network: Network | None = None, **kwargs: Any) -> None:
        # Target initialises in __new__ (its core is in Rust); only the network is left to set.
        self.network = network

    def __getstate__(self) -> dict:
        return {**super().__getstate__(), "network": self.network}

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        self.network = state.pop("network", None)
        super().__setstate__(state)


def _validate_source(qpus: Iterable[QPU], links: Iterable[Link], source: str) -> None:
    seen: set[str] = set()
    qpus = list(qpus)
    if len(qpus) > MAX_QPUS:
        raise DQCError(f"{source}: {len(qpus)} QPUs, at most {MAX_QPUS} are supported")
    for q in qpus:
        if not isinstance(q.name, str) or not _IDENTIFIER.match(q.name) or q.name in _RESERVED:
            raise DQCError(f"{source}: QPU name {q.name!r} is not a valid register name (letters, digits, _)")
        if q.name in seen:
            raise DQCError(f"{source}: QPU '{q.name}' is named twice")
        seen.add(q.name)
        if q.data_qubits < 0 or q.comm_qubits < 0:
            raise DQCError(f"{source}: QPU '{q.name}' has a negative qubit count")
    pairs: set[frozenset] = set()
    for link in links:
        a, b = link.between
        for end in (a, b):
            if end not in seen:
                raise DQCError(f"{source}: link {a}-{b} names unknown QPU '{end}'")
        if a == b:
            raise DQCError(f"{source}: link {a}-{b} joins a QPU to itself")
        pair = frozenset((a, b))
        if pair in pairs:
            raise DQCError(f"{source}: link {a}-{b} is listed twice")
        pairs.add(pair)


_NOISE_KEYS = ("gate_error_1q", "gate_error_2q", "readout_error", "t1", "t2")


def _qpu_noise(raw: dict, where: str) -> dict:
    """The optional noise keys of a QPU object (docs/noise.md), checked."""
    values = {key: _probability(raw[key], f"{where}.{key}")
              for key in ("gate_error_1q", "gate_error_2q", "readout_error") if key in raw}
    values["t1"] = _lifetime(raw, "t1", where)
    values["t2"] = _lifetime(raw, "t2", where)
    if values["t2"] > 2 * values["t1"]:
        raise DQCError(f"{where} ('{raw['name']}'): t2 = {values['t2']:g} exceeds 2 * t1 = {2 * values['t1']:g} "
                       "(a qubit's T2 is at most twice its T1)")
    return values


def _check_qpu_noise(qpu: QPU, source: str) -> None:
    for key in ("gate_error_1q", "gate_error_2q", "readout_error"):
        _probability(getattr(qpu, key), f"{source}: QPU '{qpu.name}' {key}")
    for key in ("t1", "t2"):
        value = getattr(qpu, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise DQCError(f"{source}: QPU '{qpu.name}' {key}: expected a positive number, got {value!r}")
    if qpu.t2 > 2 * qpu.t1:
        raise DQCError(f"{source}: QPU '{qpu.name}': t2 = {qpu.t2:g} exceeds 2 * t1 = {2 * qpu.t1:g}")


def _probability(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise DQCError(f"{where}: expected a probability in [0, 1], got {value!r}")
    return float(value)


def _lifetime(raw: dict, key: str, where: str) -> float:
    """An optional positive time (T1, T2, a dephasing time); absent means infinite (no decay)."""
    if key not in raw:
        return math.inf
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise DQCError(f"{where}.{key}: expected a positive number, got {value!r} (a finite one; omit the key for no decay)")
    return float(value)


def _count(value: Any, where: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DQCError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise DQCError(f"{where}: {value} is more than the supported {maximum}")
    return value


def _time(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise DQCError(f"{where}: expected a non-negative number, got {value!r}")
    return float(value)


def read_limited(path: str | Path, limit: int) -> bytes:
    """The bytes of ``path``, refusing (``OSError`` with a message) anything larger than ``limit``:
    a regular file by its size before reading, a device or pipe after ``limit`` bytes."""
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise OSError(27, f"larger than the {limit // (1024 * 1024)} MiB limit", str(path))
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(27, f"larger than the {limit // (1024 * 1024)} MiB limit", str(path))
    return data
