"""Random-circuit fuzz of the compiler and the verifier: wrong outputs, false alarms, tracebacks.

    python benchmarks/fuzz.py --count 200                       # cases 0..199, summary into benchmarks/fuzz.md
    python benchmarks/fuzz.py --start 200 --count 800 --jsonl fuzz.jsonl   # resume / run a chunk
    python benchmarks/fuzz.py --summarise fuzz.jsonl            # rewrite fuzz.md from the recorded cases

Each case (derandomised: case ``i`` of seed ``s`` is always the same) draws a qiskit
``random_circuit`` (every standard gate of 1 to 3 qubits, final measurements in half the cases),
2-12 qubits, depth 2-12, k = 2-5 QPUs on an all-to-all, line, ring or star network (one comm qubit
per QPU in some), optimisation level 0-3, and sends it half the time through OpenQASM 2/3 files as
``dqc`` would. Then:

* compile; the output contract is checked independently (``tests/conftest.py``);
* ``verify`` (``auto``) and the Clifford-ised stabilizer check on their own;
* on outputs up to ``--exact-width`` qubits, an independent exact check written here on
  ``qiskit.quantum_info.Statevector`` (random product inputs, every measurement branch followed
  exactly): it decides which outputs are wrong and which verdicts are false alarms;
* a deliberately broken copy (a correction dropped, or a gate moved to another qubit) must be
  found NOT equivalent by ``verify``.

Records go to ``--jsonl`` (one line a case; cases already there are skipped) and the summary to
``--out``. Counts: wrong outputs, false alarms, missed breakages, tracebacks (refused inputs, a
one-line ``DQCError``, are counted apart).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from qiskit import QuantumCircuit, qasm2, qasm3  # noqa: E402
from qiskit.circuit import IfElseOp  # noqa: E402
from qiskit.circuit.random import random_circuit  # noqa: E402
from qiskit.quantum_info import Statevector  # noqa: E402

from dqc_compiler import Network  # noqa: E402
from dqc_compiler import compile as compile_circuit  # noqa: E402
from dqc_compiler.errors import DQCError  # noqa: E402
from dqc_compiler.io import dumps_qasm3, loads_circuit  # noqa: E402
from dqc_compiler.verify import verify  # noqa: E402
from tests.conftest import independent_contract_check  # noqa: E402

KINDS = ("qpus", "all_to_all", "line", "ring", "star")


def draw(index: int, seed: int) -> dict:
    """The parameters of case ``index`` (a pure function of ``index`` and ``seed``)."""
    rng = random.Random(f"{seed}:{index}")
    n = rng.randint(2, 12)
    k = min(rng.randint(2, 5), n)
    return {
        "index": index,
        "qubits": n,
        "depth": rng.randint(2, 12),
        "max_operands": rng.randint(1, 3),
        "measure": rng.random() < 0.5,
        "k": k,
        "level": rng.randint(0, 3),
        "network": rng.choice(KINDS),
        "comm": rng.choice((1, 2, 2)),
        "format": rng.choice(("object", "object", "qasm2", "qasm3")),
        "circuit_seed": rng.randrange(2**31),
    }


def build(case: dict) -> tuple[QuantumCircuit, Network]:
    circuit = random_circuit(case["qubits"], case["depth"], max_operands=case["max_operands"],
                             measure=case["measure"], seed=case["circuit_seed"])
    if case["format"] != "object":
        text = qasm2.dumps(circuit) if case["format"] == "qasm2" else qasm3.dumps(circuit)
        circuit = loads_circuit(text)
    n, k = case["qubits"], case["k"]
    if case["network"] == "qpus":
        network = Network.for_circuit(n, k, case["comm"])
    else:
        network = Network.from_spec(f"{case['network']}:{k},comm={case['comm']}", n)
    return circuit, network


# ---------------------------------------------------------------------- independent exact check
def _final_positions(distributed: QuantumCircuit, layout: dict, key: str) -> list[int]:
    registers = {r.name: r for r in distributed.qregs}
    return [distributed.find_bit(registers[e["qpu"]][e["index"]]).index for e in layout[key]]


def _run_branch(circuit: QuantumCircuit, state: Statevector, rng: np.random.Generator) -> Statevector:
    """Follow one measurement branch exactly (outcomes drawn with their probabilities)."""
    bits: dict = {}
    index = {q: i for i, q in enumerate(circuit.qubits)}
    for instruction in circuit.data:
        op, qubits = instruction.operation, [index[q] for q in instruction.qubits]
        if op.name == "barrier":
            continue
        if op.name == "measure":
            state.seed(int(rng.integers(2**31)))
            outcome, state = state.measure(qubits)
            bits[instruction.clbits[0]] = int(outcome)
        elif op.name == "reset":
            state.seed(int(rng.integers(2**31)))
            state = state.reset(qubits)
        elif isinstance(op, IfElseOp):
            bit, value = op.condition
            register_bits = list(bit) if hasattr(bit, "size") else [bit]
            actual = sum(bits.get(b, 0) << j for j, b in enumerate(register_bits))
            body = op.blocks[0] if actual == value else (op.blocks[1] if len(op.blocks) > 1 else None)
            if body is not None:
                inner = {q: qubits[j] for j, q in enumerate(body.qubits)}
                for item in body.data:
                    state = state.evolve(item.operation, [inner[q] for q in item.qubits])
        else:
            state = state.evolve(op, qubits)
    return state


def exact_check(original: QuantumCircuit, distributed: QuantumCircuit, layout: dict, seed: int,
                inputs: int = 2, branches: int = 3) -> float:
    """The smallest fidelity, over random product inputs and sampled branches, between the output
    on the final positions (comm qubits back in 0) and the original's output. 1 means equivalent."""
    rng = np.random.default_rng(seed)
    unitary = original.remove_final_measurements(inplace=False)
    unitary.data = [i for i in unitary.data if i.operation.name not in ("barrier", "reset", "delay")]
    n, width = unitary.num_qubits, distributed.num_qubits
    initial = _final_positions(distributed, layout, "initial")
    final = _final_positions(distributed, layout, "final")
    body = distributed.remove_final_measurements(inplace=False)
    body = body if body.num_qubits == width else distributed
    worst = 1.0
    for _ in range(inputs):
        angles = rng.uniform(0, 2 * math.pi, size=(n, 2))
        singles = [np.array([math.cos(t / 2), np.exp(1j * p) * math.sin(t / 2)]) for t, p in angles]
        ideal = Statevector.from_label("0" * n)
        prep = QuantumCircuit(n)
        for i, (t, p) in enumerate(angles):
            prep.ry(t, i)
            prep.rz(p, i)
        ideal = ideal.evolve(prep).evolve(unitary)
        start_state = np.array([1.0 + 0j])
        per_qubit = {q: singles[i] for i, q in enumerate(initial)}
        for q in reversed(range(width)):
            start_state = np.kron(start_state, per_qubit.get(q, np.array([1.0, 0.0])))
        want = np.zeros(2**width, dtype=complex)
        for basis, amplitude in enumerate(ideal.data):
            if abs(amplitude) < 1e-14:
                continue
            position = sum(((basis >> i) & 1) << final[i] for i in range(n))
            want[position] = amplitude
        for _ in range(branches):
            got = _run_branch(body, Statevector(start_state.copy()), rng)
            worst = min(worst, float(abs(np.vdot(want, got.data)) ** 2))
    return worst


# ---------------------------------------------------------------------- broken copies
def broken_copy(distributed: QuantumCircuit, rng: random.Random) -> tuple[QuantumCircuit, str] | None:
    """The output with one correction dropped, else a one-qubit gate moved to another data qubit."""
    data = list(distributed.data)
    corrections = [i for i, inst in enumerate(data) if isinstance(inst.operation, IfElseOp)]
    if corrections:
        drop = rng.choice(corrections)
        broken = distributed.copy_empty_like()
        for i, inst in enumerate(data):
            if i != drop:
                broken.append(inst)
        return broken, "dropped correction"
    gates = [i for i, inst in enumerate(data)
             if inst.operation.num_qubits == 1 and inst.operation.name not in ("measure", "reset", "barrier", "id")
             and not inst.clbits]
    if not gates:
        return None
    move = rng.choice(gates)
    others = [q for r in distributed.qregs for q in r if q is not data[move].qubits[0]]
    if not others:
        return None
    broken = distributed.copy_empty_like()
    target = rng.choice(others)
    for i, inst in enumerate(data):
        broken.append(inst.operation, [target] if i == move else inst.qubits, inst.clbits)
    return broken, "gate moved to another qubit"


# ---------------------------------------------------------------------- one case
def run_case(case: dict, exact_width: int) -> dict:
    record = dict(case)
    try:
        circuit, network = build(case)
    except DQCError as exc:
        record.update(outcome="refused", message=str(exc))
        return record
    return check_case(record, circuit, network, exact_width)


def check_case(record: dict, circuit: QuantumCircuit, network: Network, exact_width: int) -> dict:
    """Compile ``circuit`` (seed ``record["index"]``, level ``record["level"]``; through an OpenQASM 3
    file unless ``record["format"]`` is ``"object"``), check the contract, verify, cross-check exactly
    up to ``exact_width`` qubits and try a broken copy; the findings are added to ``record``."""
    case = record
    start = time.perf_counter()
    try:
        result = compile_circuit(circuit, network, seed=case["index"], optimization_level=case["level"])
    except DQCError as exc:
        record.update(outcome="refused", message=str(exc))
        return record
    except Exception:  # noqa: BLE001 - a fuzz records every crash
        record.update(outcome="traceback", where="compile", message=traceback.format_exc(limit=3)[-600:])
        return record
    distributed, report = result.circuit, result.report
    if case["format"] != "object":
        distributed = loads_circuit(dumps_qasm3(distributed))
    record["ebits"] = report["cost"]["ebits"]
    record["width"] = distributed.num_qubits
    try:
        independent_contract_check(result.circuit, report)
        record["contract"] = True
    except AssertionError as exc:
        record["contract"] = False
        record["contract_message"] = str(exc)
    try:
        verdict = verify(circuit, distributed, report["layout"], seed=case["index"])
        record["verify"] = verdict.equivalent
        record["verify_method"] = verdict.method
        stabilizer = verify(circuit, distributed, report["layout"], method="stabilizer", seed=case["index"])
        record["stabilizer"] = stabilizer.equivalent if stabilizer.checks else None
        record["stabilizer_note"] = stabilizer.reason
    except Exception:  # noqa: BLE001
        record.update(outcome="traceback", where="verify", message=traceback.format_exc(limit=3)[-600:])
        return record
    if distributed.num_qubits <= exact_width:
        try:
            figure = exact_check(circuit, distributed, report["layout"], case["index"])
            record["exact"] = figure > 1 - 1e-6
            record["exact_figure"] = figure
        except Exception:  # noqa: BLE001
            record["exact"] = None
            record["exact_error"] = traceback.format_exc(limit=2)[-300:]
    broken = broken_copy(distributed, random.Random(case["index"]))
    if broken is not None:
        circuit_b, how = broken
        try:
            caught = not verify(circuit, circuit_b, report["layout"], seed=case["index"]).equivalent
        except DQCError:
            caught = True
        record["broken"] = how
        record["broken_caught"] = caught
        if distributed.num_qubits <= exact_width:  # is it really broken? (a moved gate may do nothing)
            try:
                record["broken_exact"] = exact_check(circuit, circuit_b, report["layout"], case["index"]) > 1 - 1e-6
            except Exception:  # noqa: BLE001
                record["broken_exact"] = None
    record["outcome"] = "ok"
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def classify(record: dict) -> list[str]:
    """What a record counts as: wrong output, false alarm, missed breakage, traceback, ..."""
    found = []
    if record.get("outcome") == "traceback":
        return ["traceback"]
    if record.get("outcome") == "refused":
        return ["refused"]
    if record.get("contract") is False:
        found.append("contract violation")
    exact = record.get("exact")
    for key in ("verify", "stabilizer"):
        verdict = record.get(key)
        if verdict is False and exact is True:
            found.append(f"false alarm ({key})")
        if verdict is True and exact is False:
            found.append(f"missed wrong output ({key})")
    if exact is False:
        found.append("wrong output")
    if exact is None and (record.get("verify") is False or record.get("stabilizer") is False):
        found.append("NOT equivalent (no exact cross-check)")
    if record.get("broken_caught") is False and exact is not False:
        if record.get("broken_exact") is False:
            found.append("broken copy not caught")
        elif record.get("broken_exact") is None:
            found.append("broken copy passed (no exact cross-check)")
    return found


# ---------------------------------------------------------------------- summary
def summarise(records: list[dict], command: str) -> str:
    tally = Counter()
    for record in records:
        for label in classify(record):
            tally[label] += 1
    ok = [r for r in records if r.get("outcome") == "ok"]
    methods = Counter(r.get("verify_method") for r in ok)
    lines = [
        "# Fuzz: random circuits through compile and verify",
        "",
        f"Produced by `{command}` (see the docstring of `benchmarks/fuzz.py`). The cases are recorded in "
        "`benchmarks/fuzz.jsonl`; a run with a larger `--count` skips them and adds the rest, and "
        "`--summarise` rewrites this file. Case i is the same on every machine (seeded by `--seed` and i).",
        "",
        f"- cases: **{len(records)}** (indices {min(r['index'] for r in records)}..{max(r['index'] for r in records)}), "
        f"compiled and verified: {len(ok)}, refused with a one-line error: {tally['refused']}",
        f"- wrong outputs (independent exact check): **{tally['wrong output']}**",
        f"- verifier false alarms: **{tally['false alarm (verify)']}** (`auto`), "
        f"**{tally['false alarm (stabilizer)']}** (Clifford-ised stabilizer check)",
        f"- wrong outputs the verifier passed: {tally['missed wrong output (verify)']} (`auto`)",
        f"- contract violations (independent check): **{tally['contract violation']}**",
        f"- tracebacks: **{tally['traceback']}**",
        f"- broken copies (correction dropped / gate moved) that the exact cross-check finds wrong but `auto` "
        f"passed: **{tally['broken copy not caught']}** of {sum(1 for r in ok if r.get('broken_exact') is False)}; "
        f"passed without a cross-check (may be harmless): {tally['broken copy passed (no exact cross-check)']} "
        f"of {sum(1 for r in ok if 'broken_caught' in r and r.get('broken_exact') is None)}",
        f"- NOT equivalent where no exact cross-check ran: {tally['NOT equivalent (no exact cross-check)']}",
        f"- exact cross-check ran on {sum(1 for r in ok if r.get('exact') is not None)} cases "
        f"(outputs up to the width limit)",
        f"- stabilizer check declined (gate without a consistent Clifford image): "
        f"{sum(1 for r in ok if r.get('stabilizer') is None)}",
        "- methods `auto` chose: " + ", ".join(f"{m} {c}" for m, c in methods.most_common()),
        f"- mean time per case (compile, contract, verify twice, exact cross-check, broken copy): "
        f"{sum(r.get('seconds') or 0 for r in ok) / max(1, len(ok)):.1f} s",
        "",
    ]
    flagged = [(r, classify(r)) for r in records if set(classify(r)) - {"refused"}]
    if flagged:
        lines += ["## Flagged cases", "", "| index | what | qubits | k | level | network | format |", "|---|---|---|---|---|---|---|"]
        for r, labels in flagged[:50]:
            lines.append(f"| {r['index']} | {', '.join(labels)} | {r['qubits']} | {r['k']} | {r['level']} | "
                         f"{r['network']} comm={r['comm']} | {r['format']} |")
        lines.append("")
    refused = Counter((r.get("message") or "")[:80] for r in records if r.get("outcome") == "refused")
    if refused:
        lines += ["## Refused inputs", ""] + [f"- {c} x `{m}`" for m, c in refused.most_common(10)] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exact-width", type=int, default=16, help="widest output cross-checked exactly")
    parser.add_argument("--jsonl", default=str(HERE / "fuzz.jsonl"), help="case records (resumable)")
    parser.add_argument("--out", default=str(HERE / "fuzz.md"))
    parser.add_argument("--summarise", action="store_true", help="only rewrite --out from --jsonl")
    args = parser.parse_args(argv)
    path = Path(args.jsonl)
    records = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                if record.get("seed", 0) == args.seed:
                    records[record["index"]] = record
    command = "python " + " ".join(["benchmarks/fuzz.py", *(argv if argv is not None else sys.argv[1:])])
    if args.summarise and records:  # the run that produces these cases (it skips those already recorded)
        first, last = min(records), max(records)
        command = (f"python benchmarks/fuzz.py --seed {args.seed} --start {first} --count {last - first + 1} "
                   f"--exact-width {args.exact_width}")
    if not args.summarise:
        todo = [i for i in range(args.start, args.start + args.count) if i not in records]
        columns = (TextColumn("fuzz"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[flags]}"),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns) as progress, path.open("a") as sink:
            task = progress.add_task("fuzz", total=len(todo), flags="")
            flags = Counter()
            for index in todo:
                record = run_case(draw(index, args.seed), args.exact_width)
                record["seed"] = args.seed
                records[index] = record
                sink.write(json.dumps(record) + "\n")
                sink.flush()
                for label in classify(record):
                    if label != "refused":
                        flags[label] += 1
                progress.update(task, advance=1, flags=" ".join(f"{k}: {v}" for k, v in flags.items()))
    if records:
        Path(args.out).write_text(summarise(sorted(records.values(), key=lambda r: r["index"]), command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
