"""Network benchmarks: ebits (link-level and end-to-end), rounds and makespan on line, ring and star
networks, the fidelity estimated under example noise, and what a limit of one comm qubit per QPU costs.

    python benchmarks/networks.py            # writes its section into benchmarks/results.md
    python benchmarks/networks.py --print    # prints it only
    python benchmarks/networks.py --print --circuits qft_noswap_16 --networks line:4 all_to_all:4 --no-comm-limit

Every output is verified (`auto` up to 12 qubits, the Clifford-ised stabilizer check above).
`python benchmarks/run.py` keeps this section when it rewrites results.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.progress import Progress

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from sections import write_section  # noqa: E402 - benchmarks/sections.py

from dqc_compiler import Network  # noqa: E402
from dqc_compiler import compile as compile_circuit  # noqa: E402
from dqc_compiler.io import load_circuit  # noqa: E402
from dqc_compiler.noise import estimate_fidelity  # noqa: E402
from dqc_compiler.verify import verify  # noqa: E402

CIRCUITS = ("qft_noswap_16", "qft_16", "grover_7", "shor_15_7")
NETWORKS = ("all_to_all:4", "line:4", "ring:4", "star:4")
COMM_LIMIT_CIRCUITS = ("qft_noswap_32", "qft_32", "grover_7", "shor_15_7")
COMM_LIMIT_KS = (2, 4)
BEGIN, END = "<!-- networks: begin -->", "<!-- networks: end -->"
SEED = 1
#: Example noise for the estimated-fidelity column (times in units of the default gate time 1; an ebit takes 10):
#: trapped-ion-like local errors, a good photonic link, and memories that decohere over 10^5 gate times.
EXAMPLE_NOISE = {"gate_error_1q": 1e-4, "gate_error_2q": 1e-3, "readout_error": 1e-3, "t1": 1e6, "t2": 1e5,
                 "link_fidelity": 0.99}


def _verified(circuit, result) -> str:
    method = "auto" if circuit.num_qubits <= 12 else "stabilizer"
    verdict = verify(circuit, result.circuit, result.report["layout"], method=method, seed=SEED)
    return "yes" if verdict.equivalent else "**NO**"


def run_networks(progress, circuits=CIRCUITS, networks=NETWORKS) -> list[dict]:
    rows = []
    task = progress.add_task("networks", total=len(circuits) * len(networks))
    for name in circuits:
        circuit = load_circuit(HERE / "circuits" / f"{name}.qasm")
        for spec in networks:
            progress.update(task, description=f"{name} on {spec}")
            # Uniform noise changes no route or placement: the compilation is the noiseless one.
            network = Network.from_spec(spec, circuit.num_qubits).with_noise(**EXAMPLE_NOISE)
            start = time.perf_counter()
            result = compile_circuit(circuit, network, seed=SEED)
            seconds = time.perf_counter() - start
            cost, schedule = result.report["cost"], result.report["schedule"]
            rows.append({
                "circuit": name, "n": circuit.num_qubits, "network": spec, "ebits": cost["ebits"],
                "end_to_end": cost["end_to_end_ebits"], "swaps": cost["entanglement_swaps"],
                "rounds": schedule["comm_rounds"], "makespan": schedule["makespan"],
                "data_wait": schedule["data_wait"], "fidelity": estimate_fidelity(result)["estimate"],
                "compile_s": seconds, "verified": _verified(circuit, result),
            })
            progress.advance(task)
    return rows


def run_comm_limit(progress) -> list[dict]:
    rows = []
    task = progress.add_task("comm limit", total=len(COMM_LIMIT_CIRCUITS) * len(COMM_LIMIT_KS))
    for name in COMM_LIMIT_CIRCUITS:
        circuit = load_circuit(HERE / "circuits" / f"{name}.qasm")
        for k in COMM_LIMIT_KS:
            progress.update(task, description=f"{name} k={k}, 1 comm qubit")
            row = {"circuit": name, "k": k}
            for comm in (1, 2):
                result = compile_circuit(circuit, Network.for_circuit(circuit.num_qubits, k, comm), seed=SEED)
                cost = result.report["cost"]
                row[comm] = cost["ebits"]
                row[f"unlimited_{comm}"] = cost["ebits_unlimited_comm"]
                row[f"verified_{comm}"] = _verified(circuit, result)
            progress.advance(task)
            rows.append(row)
    return rows


def to_markdown(rows: list[dict], limits: list[dict]) -> str:
    lines = [
        BEGIN,
        "## Networks",
        "",
        "Command: `python benchmarks/networks.py` (level 2, seed 1; presets sized to the circuit, "
        "`ceil(n/4)` data qubits and 2 comm qubits per QPU, the star's hub 4; default timings: ebit 10, "
        "gate 1, measure 1, classical 1 per link). `ebits` are link-level (`epr` operations), "
        "`end-to-end` the pairs the telegates consume, `swaps` the entanglement swaps on relays. "
        "`est. fidelity` is `dqc compile --estimate-fidelity` under example noise (docs/noise.md): "
        "gate errors 1e-4 (1q) and 1e-3 (2q), readout 1e-3, T1 = 1e6 and T2 = 1e5 gate times, link fidelity 0.99.",
        "",
        "| circuit | n | network | ebits | end-to-end | swaps | rounds | makespan | data wait | est. fidelity "
        "| compile s | verified |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['circuit']} | {r['n']} | `{r['network']}` | {r['ebits']} | {r['end_to_end']} | {r['swaps']} "
            f"| {r['rounds']} | {r['makespan']:g} | {r['data_wait']:g} | {r['fidelity']:.3g} | {r['compile_s']:.1f} "
            f"| {r['verified']} |")
    if not limits:
        lines.append(END)
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "### What the comm-qubit limit costs",
        "",
        "All-to-all QPUs of `ceil(n/k)` data qubits, level 2. *unlimited* is what the same bursts cost with "
        "enough comm qubits (`cost.ebits_unlimited_comm`); the target is at most 10% more with 1 comm qubit.",
        "",
        "| circuit | k | ebits, 1 comm | unlimited | extra | ebits, 2 comm | unlimited | extra | verified |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in limits:
        extra = [100 * (r[c] / r[f"unlimited_{c}"] - 1) if r[f"unlimited_{c}"] else 0.0 for c in (1, 2)]
        ok = "yes" if r["verified_1"] == r["verified_2"] == "yes" else "**NO**"
        lines.append(f"| {r['circuit']} | {r['k']} | {r[1]} | {r['unlimited_1']} | {extra[0]:+.0f}% "
                     f"| {r[2]} | {r['unlimited_2']} | {extra[1]:+.0f}% | {ok} |")
    lines.append(END)
    return "\n".join(lines) + "\n"



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--print", action="store_true", help="print the section instead of writing results.md")
    parser.add_argument("--circuits", nargs="+", choices=CIRCUITS, default=CIRCUITS, help="only these circuits")
    parser.add_argument("--networks", nargs="+", choices=NETWORKS, default=NETWORKS, help="only these networks")
    parser.add_argument("--no-comm-limit", action="store_true", help="leave out the comm-qubit-limit table")
    args = parser.parse_args(argv)
    partial = args.circuits != CIRCUITS or args.networks != NETWORKS or args.no_comm_limit
    if partial and not args.print:
        parser.error("a partial run only prints (--print): results.md keeps whole tables")
    with Progress(transient=True) as progress:
        rows = run_networks(progress, args.circuits, args.networks)
        limits = [] if args.no_comm_limit else run_comm_limit(progress)
    text = to_markdown(rows, limits)
    if not args.print:
        write_section(HERE / "results.md", text, BEGIN, END)
    print(text)
    return 0 if "**NO**" not in text else 1


if __name__ == "__main__":
    sys.exit(main())
