"""Benchmark runner: ebits per optimisation level for every circuit in benchmarks/circuits/, written to results.md.

    python benchmarks/run.py                        # everything; writes benchmarks/results.md + ebits_vs_k.png
    python benchmarks/run.py --k 2 --only qft       # a subset, printed only (use --output to write)
    python benchmarks/run.py --skip-large           # without the QFT-300 / 30-QPU case
    python benchmarks/networks.py                   # the network section of results.md (line, ring, star, comm limits)
    python benchmarks/pytket_dqc.py DIR --write     # the section on pytket-dqc's published instances
    python benchmarks/scale.py                      # the scale section (large circuits: seconds, memory)
    python benchmarks/run.py --section optimum      # only the certified optimum; rewrites its section of results.md

For every circuit and k = 2, 3, 4 (equal all-to-all QPUs of capacity ceil(n/k), 2 comm qubits each)
it compiles at optimisation levels 0-3 and verifies every output (`auto` up to --full-verify-up-to
qubits, the Clifford-ised stabilizer check above). Then the targets of the issue tracker: the QFT
without swaps against the best published numbers, the QFT on 300 qubits in fixed blocks of 10 on 30
QPUs, random layered CZ circuits against level 0 and against the partition without refinement,
connected chains (GHZ, Bernstein-Vazirani) against k - 1, and the level 2 compile time of QFT-64 at k = 4.
Last, the certified optimum (`dqc_compiler.optimal`) of every circuit of up to 12 qubits at k = 2, 3, 4
against the level 3 heuristic, and the MaxSAT search alone on 12-qubit circuits.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import sys
import time
from importlib.metadata import version
from pathlib import Path

from rich.progress import Progress


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from qiskit.synthesis import synth_qft_full  # noqa: E402

from dqc_compiler import Network  # noqa: E402
from dqc_compiler import compile as compile_circuit  # noqa: E402
from dqc_compiler.io import load_circuit  # noqa: E402
from dqc_compiler.optimal import optimum  # noqa: E402
from dqc_compiler.verify import verify  # noqa: E402

LEVELS = (0, 1, 2, 3)
DEFAULT_LEVEL = 2

#: Best published ebit counts, QFT without final swaps, equal-size QPUs (issue tracker / DESIGN.md).
PUBLISHED = {
    ("qft_noswap_8", 2): 4, ("qft_noswap_10", 2): 5, ("qft_noswap_8", 3): 7,
    ("qft_noswap_10", 3): 8, ("qft_noswap_32", 2): 15, ("qft_noswap_32", 4): 42,
}
#: QFT on 300 qubits in contiguous blocks of 10 on 30 QPUs (DESIGN.md).
QFT300_AUTOCOMM, QFT300_PLAIN = 4640, 4350
#: Circuits drawn in the ebits-vs-k plot.
PLOTTED = ("qft_noswap_32", "qft_64", "grover_7", "shor_15_7", "random_cz_32", "ghz_16")


def _verify(circuit, distributed, full_up_to: int, seed: int) -> tuple[bool, str, float]:
    method = "auto" if circuit.num_qubits <= full_up_to else "stabilizer"
    start = time.perf_counter()
    verdict = verify(circuit, distributed, method=method, seed=seed)
    return verdict.equivalent, verdict.method, time.perf_counter() - start


def _qpus_interacting(result) -> int:
    """QPUs holding, at some time, a qubit that takes part in a two-qubit gate."""
    graph = result.property_set["dqc_interaction_graph"]
    homes = result.report.get("teledata", {}).get("history") or [[place] for place in result.report["layout"]["initial"]]
    return len({place["qpu"] for q in graph.nodes if graph.degree(q) > 0 for place in homes[q]})


def run_circuits(files: list[Path], ks: list[int], levels, full_up_to: int, seed: int, progress) -> list[dict]:
    rows = []
    task = progress.add_task("circuits", total=len(files) * len(ks) * len(levels))
    for path in files:
        circuit = load_circuit(path)
        for k in ks:
            row = {"circuit": path.stem, "n": circuit.num_qubits, "k": k, "levels": {}}
            for level in levels:
                progress.update(task, description=f"{path.stem} k={k} -O{level}")
                result = compile_circuit(circuit, qpus=k, seed=seed, optimization_level=level)
                equivalent, method, seconds = _verify(circuit, result.circuit, full_up_to, seed)
                report = result.report
                row["two_qubit"] = report["input"]["num_2q_gates"]
                row["levels"][level] = {
                    **report["cost"], "rounds": report["schedule"]["comm_rounds"],
                    "compile_s": report["timing"]["compile_seconds"], "verify": method,
                    "verify_s": seconds, "equivalent": equivalent,
                    "qpus_used": _qpus_interacting(result),
                }
                progress.advance(task)
            row["published"] = PUBLISHED.get((path.stem, k))
            rows.append(row)
    return rows


def run_qft300(levels, seed: int, verify_it: bool, progress) -> list[dict]:
    circuit = synth_qft_full(300, do_swaps=False)
    circuit.name = "qft_noswap_300"
    out = []
    task = progress.add_task("QFT-300", total=len(levels))
    for level in levels:
        progress.update(task, description=f"QFT-300 on 30 QPUs -O{level}")
        result = compile_circuit(circuit, qpus=30, seed=seed, partitioner="contiguous", optimization_level=level)
        entry = {"level": level, **result.report["cost"], "compile_s": result.report["timing"]["compile_seconds"]}
        if verify_it:
            entry["equivalent"], entry["verify"], entry["verify_s"] = _verify(circuit, result.circuit, 0, seed)
        out.append(entry)
        progress.advance(task)
    return out


def run_random_cz(ks: list[int], seed: int, progress) -> list[dict]:
    circuit = load_circuit(HERE / "circuits" / "random_cz_32.qasm")
    variants = [("level 0", 0, True), ("level 2, METIS start only", 2, False), ("level 2", 2, True),
                ("level 3", 3, True)]
    rows = []
    task = progress.add_task("random CZ", total=len(ks) * len(variants))
    for k in ks:
        row = {"k": k}
        for label, level, refine in variants:
            progress.update(task, description=f"random_cz_32 k={k} {label}")
            result = compile_circuit(circuit, qpus=k, seed=seed, optimization_level=level, refine=refine)
            row[label] = result.report["cost"]["ebits"]
            progress.advance(task)
        rows.append(row)
    return rows


#: The certified-optimum section: circuits up to this many qubits, this time limit per case (s).
OPTIMUM_MAX_QUBITS, OPTIMUM_TIME_LIMIT = 12, 60.0
#: Markers of that section in results.md, so that `--section optimum` can rewrite it alone.
OPTIMUM_BEGIN, OPTIMUM_END = "<!-- optimum: begin -->", "<!-- optimum: end -->"


def random_circuit(n: int, gates: int, seed: int):
    """``gates`` cx/cz gates on random pairs, each followed by a breaking h half of the time."""
    import random  # noqa: PLC0415

    from qiskit import QuantumCircuit  # noqa: PLC0415

    rng = random.Random(seed)
    qc = QuantumCircuit(n, name=f"random_{n}q_{gates}g_s{seed}")
    for _ in range(gates):
        a, b = rng.sample(range(n), 2)
        getattr(qc, rng.choice(["cx", "cz"]))(a, b)
        if rng.random() < 0.5:
            qc.h(rng.randrange(n))
    return qc


def run_optimum(files: list[Path], ks: list[int], seed: int, progress) -> dict:
    """The certified optimum of every circuit against level 3, and the MaxSAT search alone on 12 qubits."""
    files = [f for f in files if load_circuit(f).num_qubits <= OPTIMUM_MAX_QUBITS]
    rows = []
    task = progress.add_task("optimum", total=len(files) * len(ks))
    for path in files:
        circuit = load_circuit(path)
        for k in ks:
            progress.update(task, description=f"optimum {path.stem} k={k}")
            n = circuit.num_qubits
            level3 = compile_circuit(circuit, qpus=k, seed=seed, optimization_level=3).report["cost"]["ebits"]
            roomy = Network.for_circuit(n, k, comm_qubits=n)
            level3_roomy = compile_circuit(circuit, roomy, seed=seed, optimization_level=3).report["cost"]["ebits"]
            found = optimum(circuit, roomy, time_limit=OPTIMUM_TIME_LIMIT, seed=seed)
            rows.append({"circuit": path.stem, "n": n, "k": k, "level3": level3, "level3_roomy": level3_roomy,
                         "copies3": found.heuristic_ebits, **found.to_dict(), "method": found.solver["method"]})
            progress.advance(task)
    maxsat = []
    cases = [(load_circuit(HERE / "circuits" / f"{name}.qasm"), k) for name in ("qft_noswap_12", "qft_12")
             for k in (2, 3, 4)]
    cases += [(random_circuit(12, 60, s), 4) for s in (1, 2, 3)]
    task = progress.add_task("MaxSAT alone", total=len(cases))
    for circuit, k in cases:
        progress.update(task, description=f"MaxSAT {circuit.name} k={k}")
        found = optimum(circuit, Network.for_circuit(circuit.num_qubits, k), time_limit=OPTIMUM_TIME_LIMIT,
                        seed=seed, method="descend")
        maxsat.append({"circuit": circuit.name, "n": circuit.num_qubits, "k": k, **found.to_dict(),
                       "two_qubit": sum(len(i.qubits) == 2 for i in circuit.data)})
        progress.advance(task)
    return {"rows": rows, "maxsat": maxsat}


def optimum_markdown(result: dict, command: str) -> str:
    """The certified-optimum section of results.md, between its markers."""
    rows, maxsat = result["rows"], result["maxsat"]
    lines = [
        OPTIMUM_BEGIN,
        "## Certified optimum (`dqc bound`, `dqc compile --optimal`)",
        "",
        f"Produced by `{command}` on {datetime.date.today().isoformat()} ({machine_line()}).",
        "",
        f"Every benchmark circuit of up to {OPTIMUM_MAX_QUBITS} qubits, k equal all-to-all QPUs of capacity "
        f"ceil(n/k), time limit {OPTIMUM_TIME_LIMIT:g} s each, seed 1. The optimum is the fewest ebits of any "
        "placement in the cost model of level 2 with unlimited comm qubits (docs/cost-model.md, \"Certified "
        "optimum\"). `-O3`: level 3 with 2 comm qubits per QPU (as in the table above); `-O3 roomy`: level 3 "
        "with n comm qubits per QPU, the optimum's own assumption; `ratio` = `-O3 roomy` / optimum. "
        "`method`: how the bound was proven (`bound`: the warm start meets the connected-components bound; "
        "`enumerate`: every placement up to symmetry scored exactly; `hybrid`: the MaxSAT descent, then RC2). "
        "`seconds` include the level 3 warm start.",
        "",
        "| circuit | n | k | -O3 | -O3 roomy | optimum | lower bound | proven | method | seconds | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    ratios, optimal, proven = [], 0, 0
    for r in rows:
        ratio = 1.0 if r["level3_roomy"] == r["ebits"] else r["level3_roomy"] / max(r["ebits"], 1)
        ratios.append(ratio)
        proven += r["proven"]
        optimal += r["proven"] and r["level3_roomy"] <= r["ebits"]
        lines.append(
            f"| {r['circuit']} | {r['n']} | {r['k']} | {r['level3']} | {r['level3_roomy']} | {r['ebits']} "
            f"| {r['lower_bound']} | {'yes' if r['proven'] else '**no**'} | {r['method']} | {r['seconds']:.2f} "
            f"| {ratio:.3f} |"
        )
    if rows:
        average = sum(ratios) / len(ratios)
        lines += ["", f"**Summary:** {len(rows)} cases, {proven} proven. Average ratio -O3 roomy / optimum: "
                      f"{average:.3f}. Level 3 is optimal on {optimal} of {len(rows)} ({100 * optimal / len(rows):.0f}%); "
                      f"with 2 comm qubits per QPU it spends the optimum on "
                      f"{sum(r['proven'] and r['level3'] <= r['ebits'] for r in rows)} of {len(rows)}."]
    if maxsat:
        lines += ["", "### The MaxSAT search alone (`method=\"descend\"`, no enumeration)", "",
                  "On 12 qubits the default `hybrid` search enumerates placements instead, which is faster there; "
                  "these rows time the SAT encoding itself (2 comm qubits per QPU, which the model ignores).", "",
                  "| circuit | 2q gates | k | optimum | lower bound | proven | seconds |",
                  "|---|---:|---:|---:|---:|---|---:|"]
        for r in maxsat:
            lines.append(f"| {r['circuit']} | {r['two_qubit']} | {r['k']} | {r['ebits']} | {r['lower_bound']} "
                         f"| {'yes' if r['proven'] else '**no**'} | {r['seconds']:.2f} |")
    lines.append(OPTIMUM_END)
    return "\n".join(lines) + "\n"


def splice_optimum(text: str, section: str) -> str:
    """``text`` (results.md) with its certified-optimum section replaced by ``section`` (or appended)."""
    if OPTIMUM_BEGIN in text and OPTIMUM_END in text:
        head, rest = text.split(OPTIMUM_BEGIN, 1)
        tail = rest.split(OPTIMUM_END, 1)[1].lstrip("\n")
        return head + section + ("\n" + tail if tail else "")
    return text.rstrip("\n") + "\n\n" + section


def machine_line() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"qiskit {version('qiskit')}, qiskit-aer {version('qiskit-aer')}, pymetis {version('pymetis')}")


def to_markdown(rows, qft300, random_cz, levels, command: str) -> str:
    level_cols = " | ".join(f"ebits -O{lv}" for lv in levels)
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{command}` on {datetime.date.today().isoformat()} ({machine_line()}).",
        "",
        "Equal all-to-all QPUs of capacity ceil(n/k), 2 comm qubits each, METIS partitioner, seed 1.",
        "Levels: 0 = one telegate per nonlocal gate; 1 = segment bursts, final swaps absorbed; 2 (default) =",
        "joint minimum vertex cover, X-basis copies, embedding, partition refined on the true ebit count;",
        "3 = + commutation-aware reordering, more seeds, longer refinement, then refinement on the dry-run",
        "ebit count (docs/cost-model.md).",
        f"`published`: best published count for the same circuit and k. Other columns are for -O{DEFAULT_LEVEL}.",
        "`split`: bursts reopened because the QPUs ran out of comm qubits (each costs one more ebit).",
        "`verified`: every level's output checked on qiskit-aer (exact Choi check or product states up to",
        "the stated size, the Clifford-ised stabilizer check above it).",
        "",
        f"| circuit | n | 2q gates | k | {level_cols} | published | nonlocal gates | split | comm rounds "
        f"| compile s -O{DEFAULT_LEVEL} | compile s -O3 | verified |",
        "|---|---:|---:|---:|" + "---:|" * len(levels) + "---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lv = r["levels"]
        main = lv.get(DEFAULT_LEVEL, lv[max(lv)])
        ebits = " | ".join(str(lv[x]["ebits"]) for x in levels)
        verified = all(x["equivalent"] for x in lv.values())
        methods = sorted({x["verify"].split("/")[0] for x in lv.values()})
        compile3 = f"{lv[3]['compile_s']:.2f}" if 3 in lv else ""
        lines.append(
            f"| {r['circuit']} | {r['n']} | {r['two_qubit']} | {r['k']} | {ebits} | {r['published'] or ''} "
            f"| {main['nonlocal_gates']} | {main['bursts_split']} | {main['rounds']} | {main['compile_s']:.2f} "
            f"| {compile3} | {'yes' if verified else '**NO**'} ({', '.join(methods)}) |"
        )
    lines += ["", "## Targets", ""]
    by_key = {(r["circuit"], r["k"]): r for r in rows}

    def best(key):
        r = by_key.get(key)
        return None if r is None else min(x["ebits"] for x in r["levels"].values())

    lines += ["### QFT without final swaps vs the best published numbers", "",
              "| n | k | ours (best level) | -O2 | published | met |", "|---:|---:|---:|---:|---:|---|"]
    for (name, k), published in sorted(PUBLISHED.items(), key=lambda item: (item[0][1], int(item[0][0].split("_")[-1]))):
        ours = best((name, k))
        if ours is not None:
            o2 = by_key[(name, k)]["levels"].get(2, {}).get("ebits", "")
            lines.append(f"| {name.split('_')[-1]} | {k} | {ours} | {o2} | {published} | "
                         f"{'yes' if ours <= published else '**no**'} |")
    lines += ["", "| n | k | -O0 | best level |", "|---:|---:|---:|---:|"]
    for n in (16, 64):
        for k in (2, 3, 4):
            r = by_key.get((f"qft_noswap_{n}", k))
            if r:
                lines.append(f"| {n} | {k} | {r['levels'][0]['ebits'] if 0 in r['levels'] else ''} "
                             f"| {best((f'qft_noswap_{n}', k))} |")
    if qft300:
        lines += ["", "### QFT on 300 qubits, contiguous blocks of 10 on 30 QPUs (partitioning off)", "",
                  f"AutoComm: {QFT300_AUTOCOMM}; one ebit per (qubit, remote QPU) on this mapping: {QFT300_PLAIN}; "
                  f"target: fewer than {QFT300_PLAIN}. Level 0 (one ebit per nonlocal gate) would spend "
                  f"{qft300[0]['nonlocal_gates']}, the `nonlocal gates` count, and is not compiled here.", "",
                  "| level | ebits | nonlocal gates | split | compile s | verified | verify s |",
                  "|---:|---:|---:|---:|---:|---|---:|"]
        for e in qft300:
            verified = ("yes" if e["equivalent"] else "**NO**") + f" ({e['verify']})" if "equivalent" in e else "not run"
            lines.append(f"| {e['level']} | {e['ebits']} | {e['nonlocal_gates']} | {e['bursts_split']} "
                         f"| {e['compile_s']:.1f} | {verified} | {e.get('verify_s', 0):.1f} |")
    if random_cz:
        labels = [key for key in random_cz[0] if key != "k"]
        lines += ["", "### Random layered CZ (n = 32, 64 layers, CZ probability 0.5, `random_cz_32.qasm`)", "",
                  "| k | " + " | ".join(labels) + " | best vs level 0 |", "|---:|" + "---:|" * (len(labels) + 1)]
        for r in random_cz:
            bestv = min(r[label] for label in labels if label != "level 0")
            lines.append(f"| {r['k']} | " + " | ".join(str(r[label]) for label in labels)
                         + f" | {100 * (1 - bestv / r['level 0']):.0f}% fewer |")
    lines += ["", "### Connected chains: ebits against (QPUs used - 1)", "",
              "QPUs used: those holding a qubit that takes part in a two-qubit gate.", "",
              "| circuit | k | QPUs used | ebits -O2 | QPUs used - 1 | met |", "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        if r["circuit"].startswith(("ghz", "bv")) and 2 in r["levels"]:
            e = r["levels"][2]
            lines.append(f"| {r['circuit']} | {r['k']} | {e['qpus_used']} | {e['ebits']} | {e['qpus_used'] - 1} "
                         f"| {'yes' if e['ebits'] == e['qpus_used'] - 1 else '**no**'} |")
    r = by_key.get(("qft_noswap_64", 4))
    if r and 2 in r["levels"]:
        seconds = r["levels"][2]["compile_s"]
        lines += ["", f"### Speed: -O2 on QFT-64 (no swaps) at k = 4: {seconds:.2f} s "
                      f"({'under' if seconds < 2 else '**over**'} the 2 s target)"]
    return "\n".join(lines) + "\n"


def plot(rows, path: Path) -> None:
    import matplotlib  # noqa: PLC0415 - only the runner draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in PLOTTED:
        series = sorted((r["k"], r["levels"]) for r in rows if r["circuit"] == name)
        if not series or 0 not in series[0][1]:
            continue
        ks = [k for k, _ in series]
        line, = ax.plot(ks, [lv[0]["ebits"] for _, lv in series], linestyle=":", marker="o", alpha=0.6)
        ax.plot(ks, [min(x["ebits"] for x in lv.values()) for _, lv in series], linestyle="-", marker="o",
                color=line.get_color(), label=name)
    ax.set_yscale("log")
    ax.set_xlabel("QPUs (k)")
    ax.set_ylabel("ebits")
    ax.set_xticks(sorted({r["k"] for r in rows}))
    ax.set_title("ebits against k: level 0 (dotted) and best level (solid)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, nargs="+", default=[2, 3, 4], help="numbers of QPUs (default: 2 3 4)")
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS), help="levels (default: 0 1 2 3)")
    parser.add_argument("--only", default="", help="only circuits whose file name contains this")
    parser.add_argument("--full-verify-up-to", type=int, default=12, metavar="N",
                        help="`auto` verification up to N qubits, the stabilizer check above (default 12)")
    parser.add_argument("--skip-large", action="store_true", help="skip the QFT-300 / 30-QPU case")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default=None,
                        help="markdown file to write (default: benchmarks/results.md for a full run, none otherwise)")
    parser.add_argument("--section", choices=["all", "optimum"], default="all",
                        help="optimum: only the certified-optimum section, spliced into results.md (or --output)")
    args = parser.parse_args(argv)
    files = sorted((HERE / "circuits").glob("*.qasm"), key=lambda p: (load_circuit(p).num_qubits, p.name))
    files = [f for f in files if args.only in f.stem]
    full_run = not args.only and args.k == [2, 3, 4] and sorted(args.levels) == list(LEVELS)
    command = ("python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])).strip()
    if args.section == "optimum":
        with Progress(transient=True) as progress:
            section = optimum_markdown(run_optimum(files, args.k, args.seed, progress), command)
        output = Path(args.output) if args.output else HERE / "results.md" if full_run else None
        if output:
            output.write_text(splice_optimum(output.read_text() if output.exists() else "", section))
        print(section)
        return 0
    with Progress(transient=True) as progress:
        rows = run_circuits(files, args.k, args.levels, args.full_verify_up_to, args.seed, progress)
        qft300 = [] if args.skip_large or args.only else run_qft300([1, 2], args.seed, True, progress)
        random_cz = [] if args.only and args.only not in "random_cz_32" else run_random_cz(
            [k for k in args.k if k in (2, 4)] or args.k, args.seed, progress)
        optimal = run_optimum(files, args.k, args.seed, progress) if full_run else None
    text = to_markdown(rows, qft300, random_cz, args.levels, command)
    if optimal is not None:
        text = splice_optimum(text, optimum_markdown(optimal, command))
    output = args.output or (HERE / "results.md" if full_run and not args.skip_large else None)
    if output:
        keep = Path(output).read_text() if Path(output).exists() else ""
        # sections with their own runners (networks, pytket-dqc, scale, qasmbench, ...), in their order
        for block in re.finditer(r"<!-- ([\w-]+): ?begin -->.*?<!-- \1: ?end -->", keep, flags=re.S):
            if block.group(0).startswith(OPTIMUM_BEGIN):
                continue  # this runner's own section, already in ``text``
            text += "\n" + block.group(0) + "\n"
        Path(output).write_text(text)
        if 0 in args.levels:
            plot(rows, Path(output).with_name("ebits_vs_k.png"))
    print(text)
    ok = all(x["equivalent"] for r in rows for x in r["levels"].values())
    return 0 if ok and all(e.get("equivalent", True) for e in qft300) else 1


if __name__ == "__main__":
    sys.exit(main())
