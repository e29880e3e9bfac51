"""Sweeps: compile many circuits × networks × levels × seeds on Dask, into one results table.

A *sweep file* (YAML or JSON) names the runs::

    circuits: ["circuits/qft_*.qasm", "grover_5.qasm"]   # globs, relative to the sweep file
    networks: ["qpus:4", "qpus:4,comm=64", "line:3", "nets/het.json"]
    levels: [1, 2]          # default [2]
    seeds: [0, 1]           # default [0]
    partitioners: [metis]   # default [metis]
    verify: false           # add verification columns (auto method, as `dqc compile --verify`)

A network is ``qpus:K`` or ``qpus:K,comm=C`` (as ``dqc compile --qpus K --comm-qubits C``), a preset such
as ``line:4x8`` or a network file (as ``--network``). Every run is the cartesian product of the lists.

:func:`run_sweep` sends each run to a Dask cluster (a local one by default), writes each run's
OpenQASM 3 output and JSON report into ``OUT/runs/`` (byte-identical to ``dqc compile`` with the
same options) and appends one row per run to ``OUT/results.jsonl`` as it finishes; ``OUT/results.csv``
holds the whole table at the end. A run whose id (a hash of the circuit's and network file's
contents and the options) is already in ``results.jsonl`` is skipped, so an interrupted sweep
resumes where it stopped. A run that fails keeps its error in its row; the sweep goes on. The
scheduler retries a run whose worker died (up to :data:`RETRIES` times).

Cost: one compile per run, spread over the workers; the client only writes files and rows.
"""

from __future__ import annotations

import glob
import hashlib
import itertools
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from .errors import DQCError

#: How often a run whose worker died is tried again, on another worker.
RETRIES = 2
#: The sweep keys and their defaults (``circuits`` and ``networks`` are required).
DEFAULTS = {"levels": [2], "seeds": [0], "partitioners": ["metis"], "verify": False}
#: Report fields copied into the results table, as (column, path in the report).
COLUMNS = (
    ("num_qubits", ("input", "num_qubits")),
    ("num_2q_gates", ("input", "num_2q_gates")),
    ("ebits", ("cost", "ebits")),
    ("telegates", ("cost", "telegates")),
    ("teledata", ("cost", "teledata")),
    ("nonlocal_gates", ("cost", "nonlocal_gates")),
    ("classical_bits", ("cost", "classical_bits")),
    ("bursts_split", ("cost", "bursts_split")),
    ("comm_rounds", ("schedule", "comm_rounds")),
    ("makespan", ("schedule", "makespan")),
    ("compile_seconds", ("timing", "compile_seconds")),
    ("equivalent", ("verification", "equivalent")),
    ("verify_method", ("verification", "method")),
    ("verify_seconds", ("timing", "verify_seconds")),
)


@dataclass(frozen=True)
class Run:
    """One compile of a sweep: what to compile, where, and how."""

    circuit: str          # the path as the sweep resolved it
    network: str          # qpus:K[,comm=C], a preset, or a network file path
    level: int
    seed: int
    partitioner: str
    verify: bool
    run_id: str           # a hash of the inputs' contents and the options

    @property
    def stem(self) -> str:
        """The name of this run's files in ``OUT/runs/``."""
        net = "".join(c if c.isalnum() else "-" for c in Path(self.network).stem)
        return f"{Path(self.circuit).stem}__{net}__O{self.level}__s{self.seed}__{self.run_id[:10]}"


def load_sweep(path: str | Path) -> dict:
    """The sweep file at ``path`` (YAML or JSON), checked, with defaults filled in."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DQCError(f"{path}: cannot read the sweep file ({getattr(exc, 'strerror', None) or exc})") from None
    sweep = _parse(path, text)
    unknown = sorted(set(sweep) - {"circuits", "networks", *DEFAULTS})
    if unknown:
        raise DQCError(f"{path}: unknown sweep key '{unknown[0]}' (known: circuits, networks, {', '.join(DEFAULTS)})")
    for key in ("circuits", "networks"):
        if not sweep.get(key):
            raise DQCError(f"{path}: the sweep needs a non-empty list '{key}'")
    sweep = {**DEFAULTS, **sweep}
    for key in ("circuits", "networks", "levels", "seeds", "partitioners"):
        sweep[key] = _as_list(path, key, sweep[key])
    _check_values(path, sweep)
    return sweep


def _parse(path: Path, text: str) -> dict:
    import yaml  # noqa: PLC0415 - only sweeps need it

    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else (f" line {exc.lineno}" if hasattr(exc, "lineno") else "")
        raise DQCError(f"{path}:{line}: not a valid sweep file ({str(exc).splitlines()[0]})".replace(":: ", ": ")) from None
    if not isinstance(data, dict):
        raise DQCError(f"{path}: a sweep file is a mapping with keys circuits, networks, levels, seeds, ...")
    return data


def _as_list(path: Path, key: str, value) -> list:
    values = value if isinstance(value, list) else [value]
    kind = str if key in ("circuits", "networks", "partitioners") else int
    for item in values:
        if not isinstance(item, kind) or isinstance(item, bool):
            raise DQCError(f"{path}: '{key}' must be a list of {kind.__name__}s, got {item!r}")
    return values


def _check_values(path: Path, sweep: dict) -> None:
    from .passes.partition import PARTITIONERS  # noqa: PLC0415

    for level in sweep["levels"]:
        if level not in range(4):
            raise DQCError(f"{path}: level {level} is not one of 0, 1, 2, 3")
    for seed in sweep["seeds"]:
        if not 0 <= seed < 2**32:
            raise DQCError(f"{path}: seed {seed} is not in 0 .. 2**32-1")
    for name in sweep["partitioners"]:
        if name not in PARTITIONERS:
            raise DQCError(f"{path}: unknown partitioner '{name}' (known: {', '.join(PARTITIONERS)})")
    if not isinstance(sweep["verify"], bool):
        raise DQCError(f"{path}: 'verify' must be true or false")


def expand(sweep: dict, base: str | Path = ".") -> list[Run]:
    """Every run of ``sweep``, circuits and network files resolved against ``base`` (the sweep's folder)."""
    base = Path(base)
    circuits = _circuits(sweep["circuits"], base)
    networks = [_network_spec(spec, base) for spec in sweep["networks"]]
    runs = []
    for circuit, network, level, seed, partitioner in itertools.product(
            circuits, networks, sweep["levels"], sweep["seeds"], sweep["partitioners"]):
        key = {"circuit": _digest(circuit), "network": _network_key(network), "level": level, "seed": seed,
               "partitioner": partitioner, "verify": sweep["verify"]}
        run_id = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        runs.append(Run(circuit, network, level, seed, partitioner, sweep["verify"], run_id))
    return runs


def _circuits(patterns: list[str], base: Path) -> list[str]:
    found = []
    for pattern in patterns:
        full = pattern if os.path.isabs(pattern) else str(base / pattern)
        matches = sorted(glob.glob(full, recursive=True))
        if not matches:
            raise DQCError(f"circuit pattern '{pattern}' matches no file (relative to {base})")
        found += [m for m in matches if m not in found]
    return found


def _network_spec(spec: str, base: Path) -> str:
    """A file path resolved against ``base``; a ``qpus:``/preset spec unchanged."""
    candidate = Path(spec) if os.path.isabs(spec) else base / spec
    return str(candidate) if candidate.exists() else spec


def _network_key(spec: str) -> str:
    return _digest(spec) if Path(spec).is_file() else spec


def _digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise DQCError(f"{path}: cannot read ({exc.strerror})") from None


def network_for(spec: str, num_qubits: int):
    """The network of one run: ``qpus:K[,comm=C]`` as ``dqc compile --qpus K --comm-qubits C``, else
    as ``--network`` (a preset or a file)."""
    from .cli import DEFAULT_COMM_QUBITS, _load_network  # noqa: PLC0415 - one loader for the CLI and sweeps
    from .network import Network  # noqa: PLC0415

    if spec.startswith("qpus:") and not Path(spec).exists():
        head, _, comm = spec[len("qpus:"):].partition(",comm=")
        try:
            qpus, comm_qubits = int(head), int(comm) if comm else DEFAULT_COMM_QUBITS
        except ValueError:
            raise DQCError(f"network '{spec}': expected qpus:K or qpus:K,comm=C") from None
        if qpus < 1 or comm_qubits < 0:
            raise DQCError(f"network '{spec}': K must be positive and C non-negative")
        return Network.for_circuit(num_qubits, qpus, comm_qubits)
    network = _load_network(spec, num_qubits)
    if num_qubits > network.capacity:
        raise DQCError(f"the circuit has {num_qubits} qubits but the network {spec} holds only "
                       f"{network.capacity} data qubits")
    return network


def compile_run(run: Run) -> dict:
    """Compile one run (on a worker): its row, and its output files as bytes (``files``)."""
    start = time.perf_counter()
    row = {"run_id": run.run_id, **{k: v for k, v in asdict(run).items() if k != "run_id"}}
    try:
        report, qasm = _compile(run)
    except DQCError as exc:
        return {**row, "status": "error", "error": str(exc), "seconds": round(time.perf_counter() - start, 3)}
    except Exception as exc:  # noqa: BLE001 - a bug in one run must not stop the sweep
        return {**row, "status": "error", "error": f"internal error: {type(exc).__name__}: {exc}",
                "seconds": round(time.perf_counter() - start, 3)}
    for column, keys in COLUMNS:
        row[column] = _dig(report, keys)
    row.update(status="ok", error="", seconds=round(time.perf_counter() - start, 3))
    from .report import dumps_json  # noqa: PLC0415

    row["files"] = {f"{run.stem}.qasm": qasm, f"{run.stem}.json": (dumps_json(report) + "\n").encode()}
    return row


def _compile(run: Run) -> tuple[dict, bytes]:
    """What ``dqc compile CIRCUIT --network/--qpus ... -O L --seed S [--verify] -o X.qasm --report`` does."""
    from .io import load_circuit, serialise_circuit  # noqa: PLC0415 - workers import on first use
    from .pipeline import compile as compile_circuit  # noqa: PLC0415

    circuit = load_circuit(run.circuit)
    network = network_for(run.network, circuit.num_qubits)
    try:
        result = compile_circuit(circuit, network, seed=run.seed, partitioner=run.partitioner,
                                 optimization_level=run.level)
    except DQCError as exc:
        raise DQCError(f"{run.circuit}: {exc}") from None
    report = result.report
    if run.verify:
        _verify_into(report, circuit, result.circuit, run.seed)
    return report, serialise_circuit(f"{run.stem}.qasm", result.circuit)


def _verify_into(report: dict, circuit, distributed, seed: int) -> None:
    from .verify import VerificationUnavailable, verify  # noqa: PLC0415

    start = time.perf_counter()
    try:
        report["verification"] = verify(circuit, distributed, method="auto", seed=seed).to_dict()
    except VerificationUnavailable as exc:
        report["verification"] = {"equivalent": None, "method": f"none: {exc}"}
    report["timing"]["verify_seconds"] = round(time.perf_counter() - start, 3)


def _dig(report: dict, keys: tuple[str, ...]):
    value = report
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def run_sweep(sweep_path: str | Path, out_dir: str | Path, *, scheduler: str | None = None,
              workers: int | None = None, retry_failed: bool = False,
              on_progress: Callable[[int, int, dict | None], None] | None = None,
              task: Callable[[Run], dict] = compile_run) -> list[dict]:
    """Run every run of the sweep file not yet in ``OUT/results.jsonl``; all rows of this sweep, in order.

    ``scheduler`` is a Dask scheduler address (``tcp://HOST:PORT``); without it a local cluster of
    ``workers`` processes (default: the CPU count, at most 8) is started and stopped. ``on_progress``
    is called as ``(done, total, row)`` after each run (``row`` None for the runs skipped at start).
    """
    runs = expand(load_sweep(sweep_path), Path(sweep_path).parent)
    out = Path(out_dir)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    done = _finished_rows(out / "results.jsonl", retry_failed)
    todo = [run for run in runs if run.run_id not in done]
    if on_progress:
        on_progress(len(runs) - len(todo), len(runs), None)
    if todo:
        with _client(scheduler, workers, len(todo)) as client:
            _collect(client, todo, task, out, done, len(runs) - len(todo), len(runs), on_progress)
    rows = [done[run.run_id] for run in runs]
    _write_csv(out / "results.csv", rows)
    return rows


def _collect(client, todo, task, out: Path, done: dict, finished: int, total: int, on_progress) -> None:
    from distributed import as_completed  # noqa: PLC0415

    futures = [client.submit(task, run, key=f"dqc-{run.run_id}", pure=False, retries=RETRIES) for run in todo]
    by_key = {future.key: run for future, run in zip(futures, todo)}
    with open(out / "results.jsonl", "a", encoding="utf-8") as table:
        for future in as_completed(futures):
            run = by_key[future.key]
            row = _row_of(future, run)
            for name, data in row.pop("files", {}).items():
                _write_file(out / "runs" / name, data)
            if row["status"] == "ok":
                row.update(output=f"runs/{run.stem}.qasm", report=f"runs/{run.stem}.json")
            table.write(json.dumps(row, sort_keys=True) + "\n")
            table.flush()
            done[run.run_id] = row
            finished += 1
            if on_progress:
                on_progress(finished, total, row)


def _row_of(future, run: Run) -> dict:
    """The finished run's row, or an error row when its worker died too often."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - e.g. distributed.KilledWorker after the retries
        row = {"run_id": run.run_id, **{k: v for k, v in asdict(run).items() if k != "run_id"}}
        return {**row, "status": "error", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}


def _write_file(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _finished_rows(path: Path, retry_failed: bool) -> dict[str, dict]:
    """Rows already in ``results.jsonl`` by run id (the last row of a run wins; failed ones dropped
    with ``retry_failed``). A torn last line (the sweep was killed while writing it) is ignored."""
    rows = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and "run_id" in row and not (retry_failed and row.get("status") != "ok"):
                rows[row["run_id"]] = row
    return rows


def _client(scheduler: str | None, workers: int | None, runs: int):
    """A Dask client: on ``scheduler``, or on a local cluster that closes with the client."""
    import contextlib  # noqa: PLC0415

    from distributed import Client, LocalCluster  # noqa: PLC0415

    if scheduler:
        return Client(scheduler)
    count = max(1, min(workers or min(os.cpu_count() or 1, 8), runs))
    stack = contextlib.ExitStack()
    cluster = stack.enter_context(LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=40))
    client = stack.enter_context(Client(cluster))

    class _Both(contextlib.AbstractContextManager):
        def __enter__(self):
            return client

        def __exit__(self, *exc):
            return stack.__exit__(*exc)

    return _Both()


def _write_csv(path: Path, rows: list[dict]) -> None:
    """The table as CSV (pandas), columns in a fixed order."""
    frame = to_frame(rows)
    temporary = path.with_name(path.name + ".part")
    frame.to_csv(temporary, index=False)
    os.replace(temporary, path)


def to_frame(rows: list[dict]):
    """The rows as a pandas DataFrame, with the run's options first and the report's fields after."""
    import pandas as pd  # noqa: PLC0415

    first = ["run_id", "circuit", "network", "level", "seed", "partitioner", "verify", "status", "error"]
    last = [c for c, _ in COLUMNS] + ["seconds", "output", "report"]
    frame = pd.DataFrame(rows)
    for column in first + last:
        if column not in frame:
            frame[column] = None
    return frame[first + last]


def batch(sweep: str | Path, out_dir: str | Path, **options):
    """Run a sweep file (see the module docstring) and return its results as a pandas DataFrame.

    ``options`` are those of :func:`run_sweep`: ``scheduler``, ``workers``, ``retry_failed``.
    """
    return to_frame(run_sweep(sweep, out_dir, **options))
