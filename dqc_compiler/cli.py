"""The ``dqc`` command line: ``dqc compile``, ``dqc verify``, ``dqc simulate`` and ``dqc bound``."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

from qiskit.transpiler import PassManager

from . import __version__
from .errors import DQCError
from .io import check_outputs, commit_outputs, load_circuit, serialise_circuit, write_atomically
from .draw import draw_network, draw_timeline, picture_format
from .network import PRESETS, Network
from .report import dumps_json
from .split import split_files, split_programs
from .passes import CheckSupportedInput
from .passes.partition import PARTITIONERS
from .pipeline import DEFAULT_LEVEL
from .pipeline import compile as compile_circuit
from .settings import levels_help
from .verify import METHODS, VerificationUnavailable, verify

EXIT_EQUIVALENT, EXIT_NOT_EQUIVALENT, EXIT_BAD_INPUT = 0, 1, 2
#: A bug in dqc (or out of memory): one line on stderr, the traceback only with DQC_DEBUG=1.
EXIT_INTERNAL_ERROR = 3
#: `dqc verify`: no verdict — the time limit ran out, or no check can run at this width (the message says why).
EXIT_UNDECIDED = 4
#: Interrupted by Ctrl-C (SIGINT): 128 + 2, as a shell reports a process killed by it.
EXIT_INTERRUPTED = 130

_DESCRIPTION = """\
Distribute a quantum circuit over a network of QPUs: every multi-qubit gate ends up inside
one QPU, and all cross-QPU interaction goes through ebits (the `epr` gate) and classical messages.
"""

_COMPILE_EPILOG = """\
examples:
  dqc compile benchmarks/circuits/qft_noswap_8.qasm --qpus 2 -o qft8.qasm --report qft8.json --verify
  dqc compile grover.qasm --network docs/networks/heterogeneous.json -o grover.qpy --json
  dqc compile circuit.qpy --qpus 3 -o circuit_dist.qasm --qasm2   # QPY in, OpenQASM 2 out
  dqc compile shor.qasm --qpus 4 --seed 7 --partitioner contiguous
  dqc compile qft.qasm --qpus 4 -O 0      # the one-telegate-per-gate baseline, for comparison
  dqc compile benchmarks/circuits/qft_noswap_8.qasm --network line:4x2 --split out/ --timeline t.svg --verify

optimization levels (-O):
{levels}

exit status: 0 compiled (and verified, with --verify); 1 --verify found the output not equivalent;
2 unusable input (the message names the file and, for a parse error, the line); 3 internal error;
4 --verify reached no verdict (no check can run at this width); 130 interrupted. On exit 2, 3, 4
or 130 no file is written or changed: every output is prepared in a
temporary file first and all are committed together. An output that is an input, or two outputs
that are the same file, are refused.
""".replace("{levels}", levels_help())

_VERIFY_EPILOG = """\
examples:
  dqc verify benchmarks/circuits/qft_noswap_8.qasm qft8.qasm
  dqc verify original.qasm distributed.qpy --report compile-report.json --json

The layout (where each input qubit starts and ends) comes from --report, else from the
`// dqc-layout:` comment (OpenQASM 3) or metadata (QPY) that `dqc compile` writes.
Progress (the chosen method and why, each check with its elapsed time) goes to stderr, also
when piped; --quiet or --json turn it off.
exit status: 0 equivalent, 1 not equivalent, 2 unusable input, 3 internal error, 4 no verdict
(--time-limit ran out, or no check can run at this width: the message says which and why),
130 interrupted.
"""


_BOUND_EPILOG = """\
examples:
  dqc bound benchmarks/circuits/qft_noswap_8.qasm --qpus 2
  dqc bound circuit.qasm --network net.json --time-limit 120 --json

The cost model is the compiler's own at -O 2: one ebit per cat-entangled copy of a qubit's
segment to a remote QPU, unlimited comm qubits, no teledata, gate order as given.
exit status: 0 done (proven or not: see the output), 2 unusable input, 3 internal error, 130 interrupted.
"""

#: Default --time-limit (seconds) of `dqc bound` and `dqc compile --optimal`.
DEFAULT_TIME_LIMIT = 60.0
#: Default --comm-qubits of `dqc compile --qpus`.
DEFAULT_COMM_QUBITS = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (``dqc: error: ...``) and exit 2, like other bad input."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"dqc: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dqc", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"dqc-compiler {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    comp = commands.add_parser(
        "compile", help="distribute a circuit over QPUs", description=_DESCRIPTION, epilog=_COMPILE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    comp.add_argument("input", metavar="IN", help="circuit: OpenQASM 2 or 3 (.qasm), or QPY (.qpy)")
    _add_include_path(comp)
    where = comp.add_mutually_exclusive_group(required=True)
    where.add_argument("--qpus", type=int, metavar="K",
                       help="K all-to-all QPUs named qpu0..qpu{K-1}, each holding ceil(n/K) data qubits")
    where.add_argument("--network", metavar="NET",
                       help="network file (NET.json, see docs/network.md) or preset KIND:SHAPE[xDATA][,comm=C] "
                            "with KIND all_to_all, line, ring, star or grid: line:4x8 (4 QPUs of 8 data qubits), "
                            "grid:2x3x4, star:5x8,comm=1; line:4 sizes the QPUs to the circuit")
    comp.add_argument("--comm-qubits", type=int, default=None, metavar="C",
                      help=f"comm qubits per QPU with --qpus (default: {DEFAULT_COMM_QUBITS}); with --network "
                           "it is an error: set them in the file or the preset (line:4x8,comm=3)")
    comp.add_argument("--capacity", type=int, default=None, metavar="N",
                      help="data qubits per QPU with --qpus (default: ceil(n/K)); spare ones let qubits move "
                           "by teledata (DISQCO's runs use floor(n/K)+1)")
    comp.add_argument("--no-teledata", action="store_true",
                      help="never move qubits: telegates only (by default a hybrid plan that teleports qubits "
                           "between time windows is kept when it needs fewer ebits; see docs/cost-model.md)")
    comp.add_argument("-o", "--output", metavar="OUT",
                      help="write the distributed circuit: OpenQASM 3 (2 with --qasm2), or QPY for .qpy")
    comp.add_argument("--qasm2", action="store_true",
                      help="write -o as OpenQASM 2: a one-bit register per tested bit, 'if(m==1) gate;'")
    comp.add_argument("--report", metavar="R.json", help="write the JSON report (see docs/report.md)")
    comp.add_argument("--verify", action="store_true", help="check equivalence with the input on qiskit-aer")
    comp.add_argument("--seed", type=_seed, default=None, help="seed for the partitioner and verification (default: 0)")
    comp.add_argument("--partitioner", choices=PARTITIONERS, default="metis",
                      help="metis (default) or contiguous (fixed blocks in qubit order)")
    comp.add_argument("-O", "--optimization-level", type=int, choices=range(4), default=DEFAULT_LEVEL, metavar="L",
                      help=f"0-3: how hard to work for fewer ebits (default: {DEFAULT_LEVEL}; see below)")
    comp.add_argument("--json", action="store_true", help="print the report as JSON instead of a summary")
    comp.add_argument("--split", metavar="DIR",
                      help="also write one OpenQASM 3 program per QPU and messages.json (ebit requests and "
                           "classical messages) into DIR (see docs/output.md)")
    comp.add_argument("--timeline", metavar="FILE",
                      help="draw the communication schedule (.svg, .png or .pdf): a lane per QPU, ebits and messages")
    comp.add_argument("--draw-network", metavar="FILE",
                      help="draw the network with the qubits placed on each QPU and the ebits per link (.svg/.png/.pdf)")
    comp.add_argument("--estimate-fidelity", action="store_true",
                      help="estimate the fidelity the output delivers under the network's noise (report key "
                           "'fidelity'; see docs/noise.md)")
    comp.add_argument("--optimal", action="store_true",
                      help="place the qubits by the certified optimum of the level-2 burst model (python-sat; "
                           "small circuits) instead of the heuristic partitioner; see `dqc bound`")
    comp.add_argument("--time-limit", type=_seconds, default=None, metavar="S",
                      help=f"with --optimal: seconds the search may take (default: {DEFAULT_TIME_LIMIT:g}); "
                           "when they run out, the best placement found is used and optimality is not proven")

    ver = commands.add_parser(
        "verify", help="check a distributed circuit against the original", epilog=_VERIFY_EPILOG,
        description="Check on qiskit-aer that DISTRIBUTED computes what ORIGINAL does.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ver.add_argument("original", metavar="ORIGINAL", help="the monolithic circuit (.qasm or .qpy)")
    ver.add_argument("distributed", metavar="DISTRIBUTED", help="the distributed circuit (.qasm or .qpy)")
    _add_include_path(ver)
    ver.add_argument("--report", metavar="R.json",
                     help="compile report: its layout is used, and its 'verification' field is updated")
    ver.add_argument("--method", choices=METHODS, default="auto",
                     help="auto (default): exact Choi check when cheap, else random product states + "
                          "Clifford-ised stabilizer check")
    ver.add_argument("--seed", type=_seed, default=None, help="simulator seed (default: 0)")
    ver.add_argument("--json", action="store_true", help="print the verdict as JSON")
    ver.add_argument("--time-limit", type=_seconds, default=None, metavar="S",
                     help=f"give up after S seconds: no verdict, exit {EXIT_UNDECIDED} (default: no limit)")
    ver.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    _add_simulate_parser(commands)
    bound = commands.add_parser(
        "bound", help="the fewest ebits any placement needs (certified, small circuits)", epilog=_BOUND_EPILOG,
        description="Prove the minimum ebit count of the level-2 burst model over every placement of the "
                    "qubits (MaxSAT with python-sat), or bound it when the time limit runs out.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    bound.add_argument("input", metavar="IN", help="circuit: OpenQASM 2 or 3 (.qasm), or QPY (.qpy)")
    _add_include_path(bound)
    where = bound.add_mutually_exclusive_group(required=True)
    where.add_argument("--qpus", type=int, metavar="K",
                       help="K all-to-all QPUs, each holding ceil(n/K) data qubits")
    where.add_argument("--network", metavar="NET", help="network file or preset such as line:4x8 (see docs/network.md)")
    bound.add_argument("--time-limit", type=_seconds, default=DEFAULT_TIME_LIMIT, metavar="S",
                       help=f"seconds the search may take (default: {DEFAULT_TIME_LIMIT:g})")
    bound.add_argument("--seed", type=_seed, default=None, help="seed of the heuristic warm start (default: 0)")
    bound.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_batch_parser(commands)
    return parser


_BATCH_EPILOG = """\
sweep file (YAML or JSON; paths relative to it):
  circuits: ["circuits/qft_*.qasm", "grover_5.qasm"]
  networks: ["qpus:4", "qpus:4,comm=64", "line:3", "nets/het.json"]
  levels: [1, 2]           # default [2]
  seeds: [0, 1]            # default [0]
  partitioners: [metis]    # default [metis]
  verify: false            # true: verification columns, as compile --verify

examples:
  dqc batch sweep.yaml -o sweep-out               # a local Dask cluster, one worker per core
  dqc batch sweep.yaml -o sweep-out --workers 2
  dqc batch sweep.yaml -o sweep-out --scheduler tcp://10.0.0.5:8786

Writes OUT/runs/<run>.qasm and .json (as dqc compile -o/--report would), OUT/results.jsonl (a row
per run as it finishes) and OUT/results.csv. Runs already in results.jsonl are skipped: rerun the
same command to resume. A failed run keeps its error in its row and the sweep goes on; a run whose
worker died is retried. See docs/batch.md.
exit status: 0 every run compiled (and verified, with verify: true); 1 some run failed or was
found not equivalent; 2 unusable sweep file; 3 internal error; 130 interrupted (finished rows are kept).
"""


def _add_batch_parser(commands) -> None:
    batch = commands.add_parser(
        "batch", help="compile a sweep (circuits x networks x levels x seeds) on Dask", epilog=_BATCH_EPILOG,
        description="Compile every run of a sweep file on a Dask cluster into one results table.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    batch.add_argument("sweep", metavar="SWEEP", help="sweep file (.yaml, .yml or .json)")
    batch.add_argument("-o", "--output", metavar="DIR", required=True,
                       help="folder for runs/, results.jsonl and results.csv (created; reused to resume)")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="an existing Dask scheduler (tcp://HOST:PORT); default: a local cluster")
    batch.add_argument("--workers", type=int, default=None, metavar="N",
                       help="worker processes of the local cluster (default: one per core, at most 8)")
    batch.add_argument("--retry-failed", action="store_true", help="run again the runs whose row says error")
    batch.add_argument("--json", action="store_true", help="print the summary as JSON")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")


def _seed(text: str) -> int:
    """argparse type of ``--seed``: an integer in [0, 2**32)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to {2**32 - 1}, got '{text}'")
    return value


def _add_include_path(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--include-path", metavar="DIR", action="append", default=[],
                        help="a directory whose files an OpenQASM 2 `include` may read, besides qelib1.inc "
                             "and the files under the input's own directory (repeatable)")


def _seconds(text: str) -> float:
    """argparse type of ``--time-limit``: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got '{text}'") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got '{text}'")
    return value


_SIMULATE_EPILOG = """\
examples:
  dqc simulate grover2.qasm grover2_distributed.qasm --network docs/networks/oxford2025.json --noisy
  dqc simulate qft4.qasm qft4_distributed.qasm --network line:2x2 --shots 8000 --json

Without --noisy the distributed circuit runs noiselessly. Exact (density matrix, every measurement
deferred) when it fits in 11 qubits: then a correct output scores 1. Else N shots are sampled, and
a finite sample never scores 1 (4,000 shots over 1,024 equally likely outcomes score about 0.92):
the result then states what N samples of the ideal distribution itself score (expected, and the
1st-percentile threshold a correct output passes 99 times in 100), and whether the output is
within that sampling error. For a pass/fail equivalence check use `dqc verify`.
exit status: 0 simulated, 2 unusable input, 3 internal error, 130 interrupted.
"""


def _add_simulate_parser(commands) -> None:
    sim = commands.add_parser(
        "simulate", help="run a distributed circuit under the network's noise and compare with the ideal",
        description="Run DISTRIBUTED on qiskit-aer (with the noise of --network when --noisy) and compare its "
                    "output with the ideal ORIGINAL: Hellinger fidelity and total-variation distance of the final "
                    "measurements, or the process fidelity of a circuit without measurements.",
        epilog=_SIMULATE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sim.add_argument("original", metavar="ORIGINAL", help="the monolithic circuit (.qasm or .qpy)")
    sim.add_argument("distributed", metavar="DISTRIBUTED", help="the distributed circuit (.qasm or .qpy)")
    _add_include_path(sim)
    sim.add_argument("--network", metavar="NET", required=True,
                     help="the network DISTRIBUTED was compiled for: a file (with its noise keys) or a preset")
    sim.add_argument("--report", metavar="R.json", help="compile report whose layout is used")
    sim.add_argument("--noisy", action="store_true", help="apply the network's noise model (default: noiseless)")
    sim.add_argument("--shots", type=int, default=None, metavar="N",
                     help="sample N shots with native dynamic circuits instead of the exact simulation")
    sim.add_argument("--figure", choices=("auto", "distribution", "process"), default="auto",
                     help="auto (default): the output distribution when ORIGINAL has final measurements, "
                          "else the process fidelity (Choi state) when it fits")
    sim.add_argument("--seed", type=_seed, default=None, help="simulator seed for --shots (default: 0)")
    sim.add_argument("--json", action="store_true", help="print the result as JSON")


def main(argv: list[str] | None = None) -> int:
    """Run ``dqc ARGV``; the exit status (see the exit-code table in docs/cli.md)."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        with _only_json_on_stdout(getattr(args, "json", False)):
            return {"compile": _compile, "verify": _verify, "simulate": _simulate, "bound": _bound,
                    "batch": _batch}[args.command](args)
    except BrokenPipeError:  # `dqc compile --json | head`: the reader left; not an error of ours
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_EQUIVALENT
    except DQCError as exc:
        _say(f"dqc: error: {exc}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _say("dqc: interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - a bug: one line, its own exit code, never "not equivalent"
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    """Report an unexpected exception as one line (and the traceback with ``DQC_DEBUG=1``); exit 3."""
    if os.environ.get("DQC_DEBUG", "") not in ("", "0"):
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, MemoryError):
        _say("dqc: error: out of memory: the input needs more memory than this machine has "
             "(DQC_DEBUG=1 shows where)")
        return EXIT_INTERNAL_ERROR
    text = str(exc).strip().splitlines()
    what = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    _say(f"dqc: internal error ({what}); this is a bug in dqc, please report it with the command line "
         "and input (DQC_DEBUG=1 shows the traceback)")
    return EXIT_INTERNAL_ERROR


def _clean(text: str) -> str:
    """``text`` as one printable line: control characters (a newline or a terminal escape in a file
    name or in a quoted message) are shown escaped, as ``\\n`` and ``\\x1b``, never sent to the terminal."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _say(line: str) -> None:
    """One clean line on stderr (where nothing else is, if stderr is gone)."""
    with contextlib.suppress(OSError, ValueError):
        print(_clean(line), file=sys.stderr, flush=True)


@contextlib.contextmanager
def _only_json_on_stdout(enabled: bool):
    """With ``--json``: stdout gets the one JSON document the command prints and nothing else.

    While the command runs, file descriptor 1 points at stderr, so C libraries (METIS prints
    ``***Cannot bisect a graph with 0 vertices!``) cannot write there; what the command prints
    is collected, checked to be one strict JSON document, and only then written to stdout.
    """
    if not enabled:
        yield
        return
    real, collected = sys.stdout, io.StringIO()
    with contextlib.suppress(OSError, ValueError):
        real.flush()
    saved = _point_fd(1, 2)
    sys.stdout = collected
    try:
        yield
    finally:
        sys.stdout = real
        _restore_fd(1, saved)
    text = collected.getvalue()
    if text.strip():
        try:
            json.loads(text, parse_constant=_not_json)
        except ValueError as exc:
            raise RuntimeError(f"--json output is not one strict JSON document ({exc})") from None
    real.write(text)
    real.flush()


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def _point_fd(fd: int, to: int) -> int | None:
    """Point file descriptor ``fd`` at ``to``; the saved original, or None where that is impossible."""
    _flush_c_stdio()
    try:
        saved = os.dup(fd)
    except OSError:
        return None
    try:
        os.dup2(to, fd)
    except OSError:
        os.close(saved)
        return None
    return saved


def _restore_fd(fd: int, saved: int | None) -> None:
    if saved is None:
        return
    _flush_c_stdio()  # C stdio buffers hold what was written meanwhile: let it go where fd pointed
    os.dup2(saved, fd)
    os.close(saved)


def _flush_c_stdio() -> None:
    with contextlib.suppress(Exception):
        import ctypes  # noqa: PLC0415

        ctypes.CDLL(None).fflush(None)


def _status(args, message: str):
    """A rich spinner on a terminal; silent when piped or with --json."""
    if args.json or not sys.stderr.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(message)


def _compile(args) -> int:
    circuit = load_circuit(args.input, args.include_path)
    network = _compile_network(args, circuit.num_qubits)
    if args.qasm2 and (not args.output or Path(args.output).suffix.lower() == ".qpy"):
        raise DQCError("--qasm2 needs an OpenQASM output file: -o OUT.qasm")
    if args.time_limit is not None and not args.optimal:
        raise DQCError("--time-limit applies only with --optimal")
    for path in (args.timeline, args.draw_network):
        if path:
            picture_format(path)
    if args.split and Path(args.split).exists() and not Path(args.split).is_dir():
        raise DQCError(f"{args.split}: --split needs a directory, and this is a file")
    planned = _planned_outputs(args, [f"{q.name}.qasm" for q in network.qpus] + ["messages.json"])
    inputs = _compile_inputs(args)
    check_outputs(planned, inputs, stdout_is_output=args.json)  # before any work: refuse what would lose a file
    with _status(args, f"compiling {args.input}"):
        try:
            result = compile_circuit(
                circuit, network, seed=args.seed, partitioner=args.partitioner,
                optimization_level=args.optimization_level,
                optimal=args.optimal, time_limit=args.time_limit or DEFAULT_TIME_LIMIT,
                teledata=False if args.no_teledata else None,
            )
        except DQCError as exc:  # the pipeline does not know the file name; name it
            raise DQCError(f"{args.input}: {exc}") from None
    report = result.report
    equivalent = True
    if args.verify:
        start = time.perf_counter()
        try:
            verdict = verify(circuit, result.circuit, method="auto", seed=args.seed, progress=_progress(args, start))
        except VerificationUnavailable as exc:
            print(f"dqc: no verdict: {exc}; nothing written", file=sys.stderr)
            return EXIT_UNDECIDED
        report["verification"] = verdict.to_dict()
        report["timing"]["verify_seconds"] = round(time.perf_counter() - start, 3)
        equivalent = verdict.equivalent
    if args.estimate_fidelity:
        from .noise import estimate_fidelity  # noqa: PLC0415 - only with --estimate-fidelity

        report["fidelity"] = estimate_fidelity(result)
    text = dumps_json(report)  # strict JSON (no Infinity/NaN), or a one-line error before anything is written
    files = _compile_files(args, result, network, text)
    commit_outputs(files, inputs, directories=[args.split] if args.split else ())  # all or nothing
    print(text if args.json else _summary(args, report))
    return EXIT_EQUIVALENT if equivalent else EXIT_NOT_EQUIVALENT


def _compile_network(args, num_qubits: int) -> Network:
    """The network of ``dqc compile``: ``--qpus K`` (with ``--comm-qubits``) or ``--network``."""
    if args.qpus is not None:
        comm = DEFAULT_COMM_QUBITS if args.comm_qubits is None else args.comm_qubits
        if args.qpus < 1:
            raise DQCError(f"--qpus must be a positive integer, got {args.qpus}")
        if comm < 0:
            raise DQCError(f"--comm-qubits must be >= 0, got {comm}")
        if args.capacity is None:
            return Network.for_circuit(num_qubits, args.qpus, comm)
        if args.capacity < 1:
            raise DQCError(f"--capacity must be a positive integer, got {args.capacity}")
        if args.capacity * args.qpus < num_qubits:
            raise DQCError(f"{args.input}: the circuit has {num_qubits} qubits but {args.qpus} QPUs of capacity "
                           f"{args.capacity} hold only {args.capacity * args.qpus}")
        return Network.all_to_all(args.qpus, args.capacity, comm)
    if args.capacity is not None:
        raise DQCError("--capacity applies only with --qpus; with --network, give 'data_qubits' in the network "
                       "file or the preset's size (line:4x9)")
    if args.comm_qubits is not None:
        raise DQCError(f"--comm-qubits applies only with --qpus; with --network, give the comm qubits in the "
                       f"network file ('comm_qubits' of each QPU) or the preset (e.g. line:4x8,comm={args.comm_qubits})")
    network = _load_network(args.network, num_qubits)
    if num_qubits > network.capacity:
        raise DQCError(
            f"{args.input}: the circuit has {num_qubits} qubits but the network {args.network} "
            f"holds only {network.capacity} data qubits"
        )
    return network


def _planned_outputs(args, split_names: list[str]) -> list[str]:
    """Every path ``dqc compile`` will write, in the order of its options."""
    paths = [p for p in (args.output, args.report, args.timeline, args.draw_network) if p]
    if args.split and Path(args.split).is_dir():  # a directory still to be created holds no file to lose
        paths += [os.path.join(args.split, name) for name in split_names]
    return paths


def _compile_inputs(args) -> list:
    """The files ``dqc compile`` reads, which no output may overwrite: the circuit, the network file,
    and the files the circuit includes (looked up beside it and in the working directory)."""
    inputs = [args.input]
    if args.network and Path(args.network).exists():
        inputs.append(args.network)
    source = Path(args.input)
    if source.suffix.lower() != ".qpy" and source.is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            for name in re.findall(r'^\s*include\s+"([^"]+)"\s*;', source.read_text(), flags=re.MULTILINE):
                roots = [source.parent, Path(), *map(Path, args.include_path)]
                inputs += [(p, f"{name}, included by the input {args.input}")
                           for p in (root / name for root in roots) if p.is_file()]
    return inputs


def _compile_files(args, result, network: Network, report_text: str) -> list[tuple[str, bytes]]:
    """Every output of ``dqc compile`` serialised in memory, as ``(path, bytes)``."""
    files = []
    if args.output:
        files.append((args.output, serialise_circuit(args.output, result.circuit, 2 if args.qasm2 else 3)))
    if args.report:
        files.append((args.report, (report_text + "\n").encode()))
    timeline = result.property_set["dqc_timeline"]
    if args.timeline:
        picture = draw_timeline(timeline, network, picture_format(args.timeline), title=Path(args.input).name)
        files.append((args.timeline, picture))
    if args.draw_network:
        files.append((args.draw_network, draw_network(network, result.report, picture_format(args.draw_network))))
    if args.split:
        texts = split_files(*split_programs(result.circuit, timeline, network))
        files += [(os.path.join(args.split, name), text.encode()) for name, text in texts.items()]
    return files


def _load_network(spec: str, num_qubits: int) -> Network:
    """A network file, or a preset such as ``line:4x8``."""
    if ":" in spec and not Path(spec).exists():
        return Network.from_spec(spec, num_qubits)
    if spec in PRESETS and not Path(spec).exists():
        raise DQCError(f"{spec}: network file not found; for the preset, give its size, e.g. {spec}:4 "
                       f"(presets: {', '.join(p + ':K' if p != 'grid' else 'grid:RxC' for p in PRESETS)}; "
                       "see docs/network.md)")
    return Network.from_file(spec)


def _write(write) -> None:
    try:
        write()
    except OSError as exc:
        raise DQCError(f"{exc.filename or 'output'}: cannot write ({exc.strerror})") from None


def _summary(args, report: dict) -> str:
    cost, schedule, source = report["cost"], report["schedule"], report["input"]
    qpus = _qpu_list(report)
    lines = [
        f"{args.input}: {_plural(source['num_qubits'], 'qubit')}, {_gate_counts(source)} -> {qpus}",
        f"  ebits {cost['ebits']}  nonlocal gates {cost['nonlocal_gates']}  telegates {cost['telegates']}  "
        f"teledata {cost['teledata']}  classical bits {cost['classical_bits']}",
        f"  comm rounds {schedule['comm_rounds']}  makespan {schedule['makespan']:g}  "
        f"compile {report['timing']['compile_seconds']:.2f}s (-O {report['optimization']['level']})",
    ]
    notes = []
    if cost.get("entanglement_swaps"):
        notes.append(f"{cost['end_to_end_ebits']} end-to-end ebits, {cost['entanglement_swaps']} entanglement swaps")
    if cost.get("bursts_split"):
        notes.append(f"{cost['bursts_split']} bursts reopened for lack of comm qubits "
                     f"({cost['ebits_unlimited_comm']} ebits without the limit)")
    if report["optimization"]["absorbed_final_swaps"]:
        notes.append(f"{report['optimization']['absorbed_final_swaps']} final swaps absorbed into layout.final")
    if notes:
        lines.append("  " + "; ".join(notes))
    if report.get("local"):  # device QPUs: what routing inside them cost
        lines.append("  local: " + "; ".join(f"{name} {v['swaps']} SWAPs, {v['two_qubit_gates']} two-qubit gates, "
                                             f"depth {v['depth']}" for name, v in report["local"].items()))
    if "fidelity" in report:
        lines.append(f"  estimated fidelity {report['fidelity']['estimate']:.4g}"
                     + (" (noiseless network)" if report["fidelity"]["noiseless"] else ""))
    if "optimum" in report:
        lines.append("  " + _optimum_line(report["optimum"], cost["ebits"]))
    if "verification" in report:
        v = report["verification"]
        word = "equivalent" if v["equivalent"] else "NOT EQUIVALENT"
        lines.append(f"  verification: {word} ({v['method']}, {report['timing']['verify_seconds']:.2f}s)")
    if args.output:
        lines.append(f"  wrote {args.output}")
    for path in (args.report, args.timeline, args.draw_network):
        if path:
            lines.append(f"  wrote {path}")
    if args.split:
        lines.append(f"  wrote {len(report['network']['qpus'])} per-QPU programs and messages.json into {args.split}")
    return "\n".join(lines)


#: The summary names every QPU up to this many; above, only those that hold qubits (and a count).
SUMMARY_QPUS = 12


def _qpu_list(report: dict) -> str:
    """``a(4+2), b(4+2)``: each QPU with its data + comm qubits; on a large network only the QPUs
    that hold qubits, then how many QPUs the network has."""
    qpus = report["network"]["qpus"]
    shown = qpus
    if len(qpus) > SUMMARY_QPUS:
        used = {place["qpu"] for place in report["layout"]["initial"]}
        shown = [q for q in qpus if q["name"] in used]
    text = ", ".join(f"{q['name']}({q['data_qubits']}+{q['comm_qubits']})" for q in shown[:SUMMARY_QPUS])
    if len(shown) > SUMMARY_QPUS:
        text += f", ... ({len(shown)} used)"
    if len(shown) < len(qpus):
        text += f" of {len(qpus)} QPUs"
    return text


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _gate_counts(source: dict) -> str:
    """``28 two-qubit gates``, plus ``, 3 gates on 3+ qubits`` when there are any (mcx, cswap, ccz)."""
    text = _plural(source["num_2q_gates"], "two-qubit gate")
    wide = source.get("num_3q_plus_gates", 0)
    return text + (f", {_plural(wide, 'gate')} on 3+ qubits" if wide else "")


def _optimum_line(found: dict, emitted: int | None = None) -> str:
    """One line on the certified optimum: proven, or the bounds reached and why."""
    if found["proven"]:
        text = f"optimum: {found['ebits']} ebits, proven minimal ({found['seconds']:.2f}s)"
    else:
        text = (f"optimum NOT proven: best found {found['ebits']} ebits, lower bound {found['lower_bound']} "
                f"(time limit {found['time_limit']:g}s reached)")
    if found.get("heuristic_ebits") is not None:
        text += f"; level-3 heuristic: {found['heuristic_ebits']}"
    if emitted is not None and emitted > found["ebits"]:
        text += f"; the output spends {emitted - found['ebits']} more for lack of comm qubits"
    return text


def _bound(args) -> int:
    from .optimal import optimum  # noqa: PLC0415 - python-sat only for this command

    circuit = load_circuit(args.input, args.include_path)
    if args.qpus is not None:
        if args.qpus < 1:
            raise DQCError(f"--qpus must be a positive integer, got {args.qpus}")
        network = Network.for_circuit(circuit.num_qubits, args.qpus)
    else:
        network = _load_network(args.network, circuit.num_qubits)
    with _status(args, f"searching for the minimum ebit count of {args.input}"):
        try:
            found = optimum(circuit, network, time_limit=args.time_limit, seed=args.seed)
        except DQCError as exc:
            raise DQCError(f"{args.input}: {exc}") from None
    names = [q.name for q in network.qpus]
    result = {
        "input": args.input,
        "num_qubits": circuit.num_qubits,
        "qpus": len(names),
        **found.to_dict(),
        "partition": [names[p] for p in found.partition],
        "cost_model": "cat-entanglement bursts of optimisation level 2; unlimited comm qubits; no teledata, "
                      "no commutation, no Hadamard embedding",
    }
    heuristic = "" if found.heuristic_ebits is None else f"; level-3 heuristic: {found.heuristic_ebits}"
    if args.json:
        print(dumps_json(result))
    elif found.proven:
        print(f"{args.input}: minimum {found.ebits} ebits on {len(names)} QPUs, proven "
              f"({found.seconds:.2f}s){heuristic}")
    else:
        print(f"{args.input}: between {found.lower_bound} and {found.ebits} ebits on {len(names)} QPUs; optimality "
              f"NOT proven (time limit {args.time_limit:g}s reached){heuristic}")
    if not args.json:
        placed = {name: [q for q, p in enumerate(found.partition) if names[p] == name] for name in names}
        print("  placement: " + " | ".join(f"{name}: {' '.join(map(str, qs))}" for name, qs in placed.items() if qs))
    return EXIT_EQUIVALENT


def _batch(args) -> int:
    from .sweeps import run_sweep  # noqa: PLC0415 - Dask and pandas load only for sweeps

    if args.workers is not None and args.workers < 1:
        raise DQCError(f"--workers must be a positive integer, got {args.workers}")
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise DQCError(f"{args.output}: -o needs a directory, and this is a file")
    with _batch_progress(args) as progress:
        rows = run_sweep(args.sweep, args.output, scheduler=args.scheduler, workers=args.workers,
                         retry_failed=args.retry_failed, on_progress=progress)
    failed = [r for r in rows if r.get("status") != "ok"]
    different = [r for r in rows if r.get("equivalent") is False]
    summary = {"runs": len(rows), "ok": len(rows) - len(failed), "failed": len(failed),
               "not_equivalent": len(different), "table": os.path.join(args.output, "results.csv")}
    if args.json:
        print(dumps_json(summary))
    else:
        print(f"{summary['runs']} runs: {summary['ok']} compiled, {summary['failed']} failed"
              + (f", {len(different)} not equivalent" if different else "") + f" -> {summary['table']}")
        for row in failed[:5]:
            _say(f"dqc: {Path(row['circuit']).name} on {row['network']} -O {row['level']} seed {row['seed']}: "
                 f"{row.get('error') or 'failed'}")
    return EXIT_EQUIVALENT if not failed and not different else EXIT_NOT_EQUIVALENT


@contextlib.contextmanager
def _batch_progress(args):
    """A rich progress bar on a terminal (runs done / total); nothing when piped, --json or --quiet."""
    if args.json or args.quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn  # noqa: PLC0415

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task("compiling", total=None)

        def update(done: int, total: int, row) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _verify(args) -> int:
    original = _load_original(args.original, args.include_path)
    distributed = load_circuit(args.distributed, args.include_path)
    layout, report = None, None
    if args.report:
        report = _read_report(args.report)
        layout = report["layout"]
    start = time.perf_counter()
    try:
        verdict = _run_limited(lambda say: verify(original, distributed, layout=layout, method=args.method,
                                                  seed=args.seed, progress=say),
                               args.time_limit, _progress(args, start))
    except VerificationUnavailable as exc:
        print(f"dqc: no verdict: {args.distributed}: {exc}", file=sys.stderr)
        return EXIT_UNDECIDED
    except TimeoutError:
        print(f"dqc: no verdict: {args.distributed}: verification did not finish within --time-limit "
              f"{args.time_limit:g}s", file=sys.stderr)
        return EXIT_UNDECIDED
    except DQCError as exc:  # the original passed its checks above: the problem is the distributed side
        source = args.report if args.report and "layout" in str(exc) else args.distributed
        raise DQCError(f"{source}: {exc}") from None
    seconds = round(time.perf_counter() - start, 3)
    result = {**verdict.to_dict(), "seconds": seconds, "original": args.original, "distributed": args.distributed}
    if report is not None:
        report["verification"] = verdict.to_dict()
        _write(lambda: write_atomically(args.report, (json.dumps(report, indent=2) + "\n").encode()))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        word = "equivalent" if verdict.equivalent else "NOT equivalent"
        detail = f": {verdict.reason}" if verdict.reason else ""
        figures = ", ".join(f"{c.method}: min P(all 0) {c.figure:.9g} over {c.shots} shots, {c.qubits} qubits" for c in verdict.checks)
        print(f"{args.distributed}: {word} to {args.original}{detail}" + (f" ({figures}, {seconds:.2f}s)" if figures else ""))
    return EXIT_EQUIVALENT if verdict.equivalent else EXIT_NOT_EQUIVALENT


def _progress(args, start: float):
    """Stage lines on stderr with the elapsed time (also when piped, for CI logs); None when quiet."""
    if getattr(args, "json", False) or getattr(args, "quiet", False):
        return None

    def say(message: str) -> None:
        if message:
            print(f"dqc: [{time.perf_counter() - start:7.1f}s] {message}", file=sys.stderr, flush=True)

    return say


def _run_limited(work, limit: float | None, say):
    """``work(say)``, in a child process when there is a time limit (Aer cannot be interrupted in-process).

    Raises ``TimeoutError`` when the limit runs out (the child is ended); exceptions of the work
    come back as they are.
    """
    if limit is None:
        return work(say)
    import multiprocessing  # noqa: PLC0415 - only with --time-limit

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child() -> None:
        try:
            sender.send(("ok", work(say)))
        except BaseException as exc:  # noqa: BLE001 - handed to the parent
            sender.send(("error", exc))

    process = context.Process(target=child, daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(limit):
            raise TimeoutError
        kind, value = receiver.recv()
    except EOFError:
        raise DQCError("the verification process ended without a result") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
    if kind == "error":
        raise value
    return value


def _load_original(path: str, include_path: list[str]):
    """The monolithic circuit of ``dqc verify`` / ``dqc simulate``, checked like compile input."""
    original = load_circuit(path, include_path)
    try:
        PassManager([CheckSupportedInput()]).run(original)
    except DQCError as exc:
        raise DQCError(f"{path}: {exc}") from None
    return original


def _read_layout(path: str) -> dict:
    """The ``layout`` object of a compile report."""
    return _read_report(path)["layout"]


def _read_report(path: str) -> dict:
    """A compile report, which must have a ``layout`` object."""
    try:
        report = json.loads(Path(path).read_text())
        report["layout"]  # a missing layout (or a report that is no object) raises below
        return report
    except FileNotFoundError:
        raise DQCError(f"{path}: report file not found") from None
    except UnicodeDecodeError:
        raise DQCError(f"{path}: not a text file (JSON report expected)") from None
    except OSError as exc:
        raise DQCError(f"{path}: cannot read report ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise DQCError(f"{path}:{exc.lineno}: malformed report JSON: {exc.msg}") from None
    except (KeyError, TypeError):
        raise DQCError(f"{path}: no 'layout' object in the report") from None


def _simulate(args) -> int:
    from .noise import simulate  # noqa: PLC0415 - keep `dqc compile` start-up light

    original = _load_original(args.original, args.include_path)
    distributed = load_circuit(args.distributed, args.include_path)
    network = _load_network(args.network, original.num_qubits)
    layout = _read_layout(args.report) if args.report else None
    if args.shots is not None and args.shots < 1:
        raise DQCError(f"--shots must be a positive integer, got {args.shots}")
    with _status(args, "simulating on qiskit-aer"):
        try:
            outcome = simulate(original, distributed, network, layout, noisy=args.noisy, shots=args.shots,
                               seed=args.seed, figure=args.figure)
        except DQCError as exc:  # the original passed its checks: the distributed side or the network is at fault
            source = args.report if args.report and "layout" in str(exc) else args.distributed
            raise DQCError(f"{source}: {exc}") from None
    result = {**outcome.to_dict(), "original": args.original, "distributed": args.distributed, "network": args.network}
    if args.json:
        print(json.dumps(result, indent=2))
        return EXIT_EQUIVALENT
    kind = "noisy" if args.noisy else "noiseless"
    if outcome.figure == "process":
        figures = f"process fidelity {outcome.process_fidelity:.6g}"
    else:
        figures = (f"Hellinger fidelity {outcome.hellinger_fidelity:.6g}, total variation distance "
                   f"{outcome.total_variation_distance:.6g}, P({outcome.top_outcome}) "
                   f"{outcome.top_outcome_probability:.6g} (ideal {outcome.ideal_top_outcome_probability:.6g})")
    where = f"{outcome.method}, {outcome.qubits} qubits" + (f", {outcome.shots} shots" if outcome.shots else "")
    print(f"{args.distributed} ({kind}, {args.network}) vs {args.original}: {figures}")
    if outcome.sampling_threshold_hellinger is not None:
        verdict = "within" if outcome.within_sampling_error else "OUTSIDE"
        print(f"  sampling error: {outcome.shots} samples of the ideal distribution score "
              f"{outcome.sampling_expected_hellinger:.4g} (a correct output >= {outcome.sampling_threshold_hellinger:.4g} "
              f"99 times in 100): {verdict} the sampling error")
    print(f"  measured: {outcome.measured}; {where}, {outcome.seconds:.2f}s")
    if outcome.estimate is not None:
        print(f"  analytic estimate (product of operation fidelities): {outcome.estimate:.6g}")
    return EXIT_EQUIVALENT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
