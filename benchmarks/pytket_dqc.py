"""pytket-dqc's published instances: our ebits against the best of its methods (arXiv:2305.14148).

    python benchmarks/pytket_dqc.py                       # the 17-instance sample, printed
    python benchmarks/pytket_dqc.py DIR --verify          # another folder; verify every output
    python benchmarks/pytket_dqc.py --write               # splice the table into benchmarks/results.md

Each instance is a folder with ``circuit.qasm`` (as pytket exports it), ``network.json`` (this
project's network format) and ``published.json`` (``circuit_type``, ``published_best``, ...). The
default folder is ``../shared/bench/pytket-dqc-sample`` next to the repository (see its README);
the whole published set is in pytket-dqc's experiment data. Every instance is compiled with default
options (level 2, 2 comm qubits per QPU as the network file says, seed 1) and again with 64 comm
qubits per QPU: the published runs have no comm-qubit limit. Each output is verified with the
verifier's own choice of check (``auto``) unless ``--no-verify``; ``--verify`` insists on every
output (``auto`` otherwise skips instances whose check would be slow, see ``VERIFY_MAX_OPS``).
Ratios are ours / published best; below 1 we spend fewer ebits. Instances made by
``benchmarks/pytket_families.py`` have no published number: their rows show ebits only.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from sections import write_section  # noqa: E402 - benchmarks/sections.py

from dqc_compiler import Network  # noqa: E402
from dqc_compiler import compile as compile_circuit  # noqa: E402
from dqc_compiler.io import load_circuit  # noqa: E402
from dqc_compiler.verify import verify  # noqa: E402

DEFAULT_DIR = HERE.parent.parent / "shared" / "bench" / "pytket-dqc-sample"
UNLIMITED_COMM = 64
#: Without ``--verify``, outputs of circuits with more input operations than this are not verified.
VERIFY_MAX_OPS = 3000
BEGIN, END = "<!-- pytket-dqc:begin -->", "<!-- pytket-dqc:end -->"
WHERE = ("pytket-dqc instances not found in {path}. The 17-instance sample lives in "
         "../shared/bench/pytket-dqc-sample/ next to the repository (circuit.qasm, network.json and "
         "published.json per instance; see its README). The whole set is the public experiment data "
         "of pytket-dqc (arXiv:2305.14148, github.com/CQCL/pytket-dqc); convert an instance to that "
         "layout and pass its parent folder.")


def instances(folder: Path) -> list[Path]:
    """Every sub-folder of ``folder`` holding the three files, sorted by name."""
    needed = ("circuit.qasm", "network.json", "published.json")
    return sorted(d for d in folder.iterdir() if d.is_dir() and all((d / f).is_file() for f in needed))


def with_comm(spec: dict, comm: int) -> dict:
    """The network file's content with every QPU's ``comm_qubits`` set to ``comm``."""
    spec = json.loads(json.dumps(spec))
    for qpu in spec["qpus"]:
        qpu["comm_qubits"] = comm
    return spec


def run_instance(folder: Path, seed: int, check: str) -> dict:
    """Compile one instance with the network as given and with unlimited comm qubits."""
    published = json.loads((folder / "published.json").read_text())
    circuit = load_circuit(folder / "circuit.qasm")
    spec = json.loads((folder / "network.json").read_text())
    row = {"instance": folder.name, "family": published["circuit_type"], "qubits": circuit.num_qubits,
           "network": f"{published.get('network', '?')} {published.get('servers', len(spec['qpus']))}",
           "best": published["published_best"]}
    for label, network in (("default", Network.from_dict(spec)),
                           ("unlimited", Network.from_dict(with_comm(spec, UNLIMITED_COMM)))):
        start = time.perf_counter()
        result = compile_circuit(circuit, network, seed=seed)
        row[label] = result.report["cost"]["ebits"]
        row[f"{label}_s"] = time.perf_counter() - start
        row[f"{label}_verified"] = _verified(circuit, result, check)
    return row


def _verified(circuit, result, check: str) -> str:
    if check == "none" or (check == "auto" and len(circuit.data) > VERIFY_MAX_OPS):
        return "not run"
    verdict = verify(circuit, result.circuit, layout=result.report["layout"], seed=1)
    return f"yes ({verdict.method})" if verdict.equivalent else "**NO**"


def ratio(ours: int, best: int | None) -> float:
    """ours / best; NaN where there is no published number (generated instances)."""
    if best is None:
        return math.nan
    return ours / best if best else (1.0 if ours == 0 else math.inf)


def _shown(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan


def summary(rows: list[dict], label: str) -> list[str]:
    """Per family and overall: geometric mean of the ratios and wins / ties / losses."""
    families = sorted({r["family"] for r in rows})
    lines = []
    for family in families + ["**all**"]:
        chosen = [r for r in rows if family == "**all**" or r["family"] == family]
        ratios = [x for x in (ratio(r[label], r["best"]) for r in chosen) if not math.isnan(x)]
        wins = sum(x < 1 for x in ratios)
        ties = sum(x == 1 for x in ratios)
        mean = sum(r[label] for r in chosen) / len(chosen)
        lines.append(f"| {family} | {len(chosen)} | {mean:.1f} | {_shown(geomean(ratios))} "
                     f"| {wins} / {ties} / {len(ratios) - wins - ties} |")
    return lines


def to_markdown(rows: list[dict], command: str) -> str:
    lines = [
        BEGIN,
        "## pytket-dqc's published instances",
        "",
        f"Command: `{command}`. Circuits as pytket exports them (`h`, `rz`, `cu1`), networks as published; "
        "*best* is the lowest ebit count over pytket-dqc's methods (arXiv:2305.14148). *default*: level 2, "
        f"the network's 2 comm qubits per QPU, seed 1. *{UNLIMITED_COMM} comm*: the same with "
        f"{UNLIMITED_COMM} comm qubits per QPU (the published runs have no comm-qubit limit). "
        "Ratio = ours / best. Fresh instances of the same families (no published numbers): "
        "`python benchmarks/pytket_families.py DIR && python benchmarks/pytket_dqc.py DIR`. *verified*: the "
        "verifier's own choice; `clifford/stabilizer` is exact on the Clifford cz_fraction circuits and checks "
        "the Clifford-ised copy (the distribution logic) of the others (docs/verification.md).",
        "",
        f"| instance | n | network | best | default | ratio | {UNLIMITED_COMM} comm | ratio | compile s | verified |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        verified = r["default_verified"] if r["default_verified"] == r["unlimited_verified"] else \
            f"{r['default_verified']} / {r['unlimited_verified']}"
        lines.append(
            f"| {r['instance']} | {r['qubits']} | {r['network']} | {'–' if r['best'] is None else r['best']} "
            f"| {r['default']} | {_shown(ratio(r['default'], r['best']))} | {r['unlimited']} "
            f"| {_shown(ratio(r['unlimited'], r['best']))} "
            f"| {r['default_s'] + r['unlimited_s']:.1f} | {verified} |")
    for label, title in (("default", "default (2 comm qubits)"), ("unlimited", f"{UNLIMITED_COMM} comm qubits")):
        lines += ["", f"Geometric mean of ours / best, {title}; wins / ties / losses against best:", "",
                  "| family | instances | mean ebits | geomean | wins / ties / losses |", "|---|---:|---:|---:|---|"]
        lines += summary(rows, label)
    lines.append(END)
    return "\n".join(lines) + "\n"



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_DIR), help="folder of instances (default: %(default)s)")
    parser.add_argument("--only", default="", help="only instances whose folder name contains this")
    parser.add_argument("--seed", type=int, default=1)
    check = parser.add_mutually_exclusive_group()
    check.add_argument("--verify", action="store_const", dest="check", const="all", help="verify every output")
    check.add_argument("--no-verify", action="store_const", dest="check", const="none", help="verify nothing")
    parser.add_argument("--write", action="store_true", help="splice the section into benchmarks/results.md")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    found = instances(folder) if folder.is_dir() else []
    found = [d for d in found if args.only in d.name]
    if not found:
        print(WHERE.format(path=folder), file=sys.stderr)
        return 2
    if args.write and args.only:
        parser.error("--write needs the whole folder (no --only)")
    rows = []
    for d in found:
        rows.append(run_instance(d, args.seed, args.check or "auto"))
        r = rows[-1]
        print(f"{d.name}: best {r['best']}, ours {r['default']} / {r['unlimited']} ({r['default_verified']})",
              file=sys.stderr, flush=True)
    shown = folder.resolve()
    if shown.parts[-3:] == DEFAULT_DIR.parts[-3:]:  # the sample, wherever the checkout is
        shown = "../shared/bench/pytket-dqc-sample"
    command = " ".join(["python benchmarks/pytket_dqc.py", str(shown)] + [a for a in (argv or sys.argv[1:])
                                                                          if a.startswith("--") and a != "--write"])
    text = to_markdown(rows, command)
    if args.write:
        write_section(HERE / "results.md", text, BEGIN, END)
    print(text)
    return 0 if all("NO" not in r["default_verified"] + r["unlimited_verified"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
