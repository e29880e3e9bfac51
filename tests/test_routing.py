"""Real networks: presets, routes with entanglement swapping, placement, the schedule, per-QPU programs."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit
from qiskit.circuit import IfElseOp

from dqc_compiler import DQCError, Network, compile
from dqc_compiler.cli import main
from dqc_compiler.io import load_circuit
from dqc_compiler.split import assemble, read_split, split_files, split_programs, write_split
from dqc_compiler.verify import verify

from .conftest import CIRCUITS, examples, independent_contract_check

HETEROGENEOUS_STAR = {
    "qpus": [
        {"name": "hub", "data_qubits": 2, "comm_qubits": 3},
        {"name": "left", "data_qubits": 3, "comm_qubits": 1},
        {"name": "right", "data_qubits": 2, "comm_qubits": 1},
        {"name": "top", "data_qubits": 1, "comm_qubits": 2},
    ],
    "links": [["hub", "left"], ["hub", "right"], ["hub", "top"]],
}


def _pairs(network: Network) -> set[frozenset]:
    return {frozenset(link.between) for link in network.links}


# ---------------------------------------------------------------------- presets and routes
def test_presets_have_the_expected_links():
    assert _pairs(Network.line(4, 2)) == {frozenset(p) for p in [("qpu0", "qpu1"), ("qpu1", "qpu2"), ("qpu2", "qpu3")]}
    assert len(Network.ring(5, 2).links) == 5 and frozenset(("qpu4", "qpu0")) in _pairs(Network.ring(5, 2))
    star = Network.star(5, 3, comm_qubits=1)
    assert _pairs(star) == {frozenset(("qpu0", f"qpu{i}")) for i in range(1, 5)}
    assert star.qpus[0].comm_qubits == 2 and star.qpus[1].comm_qubits == 1
    grid = Network.grid(2, 3, 4)
    assert len(grid.links) == 7 and grid.distance(0, 5) == 3
    assert Network.from_spec("all_to_all:3x2").is_uniform()


@pytest.mark.parametrize(
    "spec, k, data, comm",
    [("line:4x8", 4, 8, 2), ("ring:6x4,comm=1", 6, 4, 1), ("star:5x8", 5, 8, None), ("grid:2x3x4", 6, 4, 2),
     ("line:3", 3, 4, 2)],
)
def test_spec_builds_the_preset(spec, k, data, comm):
    net = Network.from_spec(spec, num_qubits=10)
    assert net.num_qpus == k
    assert {q.data_qubits for q in net.qpus} == {data}
    if comm is not None:
        assert {q.comm_qubits for q in net.qpus} == {comm}


@pytest.mark.parametrize("spec", ["line", "lines:4x2", "grid:4", "line:4x2x3x1", "line:0x2", "line:4x0", "ring:3x2,comm=-1"])
def test_bad_spec_is_one_clear_error(spec):
    with pytest.raises(DQCError, match="network preset|not understood"):
        Network.from_spec(spec, num_qubits=4)


def test_route_prefers_fidelity_then_hops_and_needs_two_comm_qubits_to_relay():
    net = Network.from_dict({
        "qpus": [{"name": n, "data_qubits": 1} for n in "abcd"],
        "links": [{"between": ["a", "d"], "fidelity": 0.6}, ["a", "b"], ["b", "d"], ["a", "c"], ["c", "d"]],
    })
    route = net.route(0, 3)
    assert route.path in ((0, 1, 3), (0, 2, 3)) and route.hops == 2 and route.fidelity == 1.0
    net = Network.from_dict({
        "qpus": [{"name": n, "data_qubits": 1} for n in "abc"],
        "links": [{"between": ["a", "b"], "fidelity": 0.9}, {"between": ["b", "c"], "fidelity": 0.9}],
    })
    werner = (4 * 0.9 - 1) / 3
    assert net.route(0, 2).fidelity == pytest.approx((3 * werner**2 + 1) / 4)  # Werner parameters multiply
    lonely = Network.line(3, 1, comm_qubits=1)
    assert lonely.route(0, 2) is None and lonely.distance(0, 2) == math.inf and lonely.distance(0, 1) == 1


def test_link_success_probability_is_validated_and_stretches_the_ebit_time():
    raw = {"qpus": [{"name": "a", "data_qubits": 1}, {"name": "b", "data_qubits": 1}],
           "links": [{"between": ["a", "b"], "ebit_time": 10, "success_probability": 0.25}]}
    assert Network.from_dict(raw).links[0].expected_ebit_time == 40
    raw["links"][0]["success_probability"] = 0
    with pytest.raises(DQCError, match="success_probability"):
        Network.from_dict(raw)


# ---------------------------------------------------------------------- compiled outputs on real networks
def _check_network_output(circuit: QuantumCircuit, result, network: Network) -> None:
    independent_contract_check(result.circuit, result.report)
    for register in result.circuit.qregs:
        qpu = network.qpus[network.index(register.name)]
        assert register.size <= qpu.data_qubits + qpu.comm_qubits
    cost = result.report["cost"]
    assert cost["ebits"] == sum(cost["per_link"].values())
    assert cost["ebits"] == cost["end_to_end_ebits"] + cost["entanglement_swaps"]
    assert cost["ebits_unlimited_comm"] <= cost["ebits"]
    verdict = verify(circuit, result.circuit, result.report["layout"], seed=3)
    assert verdict.equivalent, verdict


@pytest.mark.parametrize("name", ["ghz_16", "bv_10", "grover_3", "qft_noswap_8"])
def test_line_of_four_with_one_comm_qubit(name):
    circuit = load_circuit(CIRCUITS / f"{name}.qasm")
    network = Network.line(4, max(4, circuit.num_qubits // 2), comm_qubits=1)
    result = compile(circuit, network, seed=1)
    _check_network_output(circuit, result, network)
    assert result.report["cost"]["entanglement_swaps"] == 0  # no QPU can relay: placement keeps it local


@pytest.mark.parametrize("name", ["grover_3", "qft_noswap_8", "bv_6"])
def test_heterogeneous_star_swaps_through_the_hub(name):
    circuit = load_circuit(CIRCUITS / f"{name}.qasm")
    network = Network.from_dict(HETEROGENEOUS_STAR)
    result = compile(circuit, network, seed=1)
    _check_network_output(circuit, result, network)


def test_line_routes_are_swapped_and_verify():
    circuit = load_circuit(CIRCUITS / "qft_noswap_8.qasm")
    network = Network.line(4, 2)
    result = compile(circuit, network, seed=1)
    _check_network_output(circuit, result, network)
    assert result.report["cost"]["entanglement_swaps"] > 0
    # a broken swap correction (the z after a relay's Bell measurement dropped) is caught
    relay_bits = _relay_bits(result.circuit, data_slots=2)
    positions = [i for i, inst in enumerate(result.circuit.data)
                 if inst.operation.name == "if_else" and inst.clbits[0] in relay_bits
                 and inst.operation.blocks[0].data[0].operation.name == "z"]
    assert positions
    broken = result.circuit.copy_empty_like()
    for i, inst in enumerate(result.circuit.data):
        if i != positions[0]:
            broken.append(inst)
    assert not verify(circuit, broken, result.report["layout"], seed=3).equivalent


def _relay_bits(circuit: QuantumCircuit, data_slots: int) -> set:
    """Bits measured on comm qubits that just took part in a cx between two comm qubits (a relay's
    Bell measurement; a cat-entangler's cx always involves a data qubit)."""
    bell, bits = set(), set()
    for inst in circuit.data:
        slots = [circuit.find_bit(q).registers[0][1] for q in inst.qubits]
        if inst.operation.name == "cx" and all(slot >= data_slots for slot in slots):
            bell.update(inst.qubits)
        elif inst.operation.name == "measure" and inst.qubits[0] in bell:
            bits.add(inst.clbits[0])
            bell.discard(inst.qubits[0])
    return bits


def test_disconnected_network_that_needs_the_cut_is_one_clear_error():
    net = Network.from_dict({"qpus": [{"name": "a", "data_qubits": 1}, {"name": "b", "data_qubits": 1}], "links": []})
    qc = QuantumCircuit(2)
    qc.cx(0, 1)
    with pytest.raises(DQCError, match="no path of links"):
        compile(qc, net)


def test_qpu_without_comm_qubits_that_must_communicate_is_one_clear_error():
    net = Network.from_dict({"qpus": [{"name": "a", "data_qubits": 1, "comm_qubits": 0},
                                      {"name": "b", "data_qubits": 1}]})
    qc = QuantumCircuit(2)
    qc.cx(0, 1)
    with pytest.raises(DQCError, match="no comm qubits"):
        compile(qc, net)


def test_placement_puts_a_chain_on_neighbours():
    qc = QuantumCircuit(8)
    order = [0, 5, 2, 7, 1, 4, 3, 6]  # a chain through the qubits in a scrambled order
    for a, b in zip(order, order[1:]):
        qc.cx(a, b)
    for level in (0, 2):
        result = compile(qc, Network.line(4, 2), seed=1, optimization_level=level)
        assert result.report["cost"]["ebits"] == 3, level
        assert result.report["cost"]["entanglement_swaps"] == 0


# ---------------------------------------------------------------------- schedule
def test_schedule_respects_links_comm_qubits_and_messages():
    circuit = load_circuit(CIRCUITS / "qft_noswap_8.qasm")
    network = Network.ring(4, 2, comm_qubits=2)
    result = compile(circuit, network, seed=1)
    timeline = result.property_set["dqc_timeline"]
    schedule = result.report["schedule"]
    by_link: dict = {}
    for slot in timeline:
        if slot.name == "epr":
            by_link.setdefault(slot.qpus, []).append((slot.start, slot.end))
    for intervals in by_link.values():  # a link makes one ebit at a time
        intervals.sort()
        assert all(a[1] <= b[0] for a, b in zip(intervals, intervals[1:]))
    assert all(peak <= 2 for peak in schedule["peak_comm_qubits"].values())
    assert schedule["makespan"] == max(slot.end for slot in timeline)
    assert schedule["makespan"] >= max(sum(e - s for s, e in iv) for iv in by_link.values())
    assert schedule["data_wait"] >= schedule["data_wait_max"] > 0
    # the emitted circuit follows the schedule
    assert [i.operation for i in result.circuit.data] == [slot.op for slot in timeline]
    assert [s.start for s in timeline] == sorted(s.start for s in timeline)


def test_schedule_waits_for_remote_bits_with_latency():
    net = Network.from_dict({"qpus": [{"name": "a", "data_qubits": 1}, {"name": "b", "data_qubits": 1}],
                             "links": [{"between": ["a", "b"], "classical_time": 7.0, "ebit_time": 3.0}]})
    qc = QuantumCircuit(2)
    qc.cx(0, 1)
    result = compile(qc, net)
    timeline = result.property_set["dqc_timeline"]
    measures = {slot.cargs[0]: slot for slot in timeline if slot.name == "measure"}
    for slot in timeline:
        if slot.name == "if_else" and slot.source is not None:
            assert slot.start >= measures[slot.cargs[0]].end + 7.0


# ---------------------------------------------------------------------- per-QPU programs
def _split(result, tmp_path):
    programs, messages = split_programs(result.circuit, result.property_set["dqc_timeline"], result.network)
    write_split(tmp_path, split_files(programs, messages))
    return read_split(tmp_path)


@pytest.mark.parametrize("name, spec", [("qft_noswap_8", "line:4x2"), ("grover_3", "star:3x2"), ("bv_6", "ring:3x2")])
def test_split_programs_reassemble_to_an_equivalent_circuit(tmp_path, name, spec):
    circuit = load_circuit(CIRCUITS / f"{name}.qasm")
    result = compile(circuit, Network.from_spec(spec, circuit.num_qubits), seed=1)
    programs, messages = _split(result, tmp_path)
    for name_, program in programs.items():  # every program is local to its QPU
        assert {r.name for r in program.qregs} <= {name_}
    assembled = assemble(programs, messages)
    assert assembled.count_ops().get("epr", 0) == result.report["cost"]["ebits"] == len(messages["ebits"])
    assert verify(circuit, assembled, result.report["layout"], seed=3).equivalent
    # a program that drops one correction no longer re-assembles to the same computation
    victim = next(n for n, p in programs.items() if any(i.operation.name == "if_else" for i in p.data))
    program = programs[victim]
    drop = next(i for i, inst in enumerate(program.data) if inst.operation.name == "if_else")
    broken = program.copy_empty_like()
    for i, inst in enumerate(program.data):
        if i != drop:
            broken.append(inst)
    assert not verify(circuit, assemble({**programs, victim: broken}, messages), result.report["layout"],
                      seed=3).equivalent


def test_split_with_a_missing_message_or_ebit_is_refused(tmp_path):
    circuit = load_circuit(CIRCUITS / "qft_noswap_8.qasm")
    result = compile(circuit, Network.line(4, 2), seed=1)
    programs, messages = _split(result, tmp_path)
    assert messages["messages"]
    with pytest.raises(DQCError, match="no message delivers"):
        assemble(programs, dict(messages, messages=messages["messages"][1:]))
    with pytest.raises(DQCError, match="more epr_half"):
        assemble(programs, dict(messages, ebits=messages["ebits"][:-1]))


# ---------------------------------------------------------------------- command line
def test_cli_done_when(tmp_path, capsys):
    out, timeline, picture = tmp_path / "out", tmp_path / "t.svg", tmp_path / "net.png"
    code = main(["compile", str(CIRCUITS / "qft_noswap_8.qasm"), "--network", "line:4x2", "--split", str(out),
                 "--timeline", str(timeline), "--draw-network", str(picture), "--verify", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verification"]["equivalent"]
    assert sorted(p.name for p in out.iterdir()) == ["messages.json", "qpu0.qasm", "qpu1.qasm", "qpu2.qasm", "qpu3.qasm"]
    assert timeline.read_text().lstrip().startswith("<?xml") and picture.read_bytes()[:4] == b"\x89PNG"
    assert report["cost"]["entanglement_swaps"] > 0


@pytest.mark.parametrize(
    "extra, message",
    [(["--network", "lines:4x2"], "not understood"), (["--network", "line:4x2", "--timeline", "t.gif"], "picture format"),
     (["--network", "line:2x1"], "holds only")],
)
def test_cli_network_errors_exit_2_and_write_nothing(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    code = main(["compile", str(CIRCUITS / "qft_noswap_8.qasm"), "-o", "out.qasm", *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_cli_disconnected_network_exit_2(tmp_path, capsys):
    net = tmp_path / "net.json"
    net.write_text(json.dumps({"qpus": [{"name": "a", "data_qubits": 4}, {"name": "b", "data_qubits": 4}], "links": []}))
    code = main(["compile", str(CIRCUITS / "qft_noswap_8.qasm"), "--network", str(net)])
    assert code == 2 and "no path of links" in capsys.readouterr().err


# ---------------------------------------------------------------------- property: any circuit, any small network
@st.composite
def _circuits(draw):
    n = draw(st.integers(3, 6))
    qc = QuantumCircuit(n)
    for _ in range(draw(st.integers(1, 12))):
        a, b = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        kind = draw(st.sampled_from(["cx", "cz", "cp", "h", "t"]))
        if kind == "cx":
            qc.cx(a, b)
        elif kind == "cz":
            qc.cz(a, b)
        elif kind == "cp":
            qc.cp(0.7, a, b)
        else:
            getattr(qc, kind)(a)
    return qc


@settings(max_examples=examples(12))
@given(circuit=_circuits(), kind=st.sampled_from(["line", "ring", "star", "grid"]), level=st.sampled_from([0, 2]))
def test_any_circuit_on_any_preset_keeps_the_contract(circuit, kind, level):
    spec = {"line": "line:3x2", "ring": "ring:4x2", "star": "star:4x2", "grid": "grid:2x2x2"}[kind]
    network = Network.from_spec(spec)
    result = compile(circuit, network, seed=1, optimization_level=level)
    _check_network_output(circuit, result, network)


def test_if_else_bodies_of_swaps_are_single_gates():
    circuit = load_circuit(CIRCUITS / "qft_noswap_8.qasm")
    result = compile(circuit, Network.line(4, 2), seed=1)
    for inst in result.circuit.data:
        if isinstance(inst.operation, IfElseOp):
            assert len(inst.operation.blocks[0].data) == 1


def test_toffoli_across_three_qpus_with_one_comm_qubit_each_is_decomposed_not_refused():
    qc = QuantumCircuit(3)
    qc.h([0, 1, 2])
    qc.ccx(0, 1, 2)
    qc.ccz(2, 0, 1)
    network = Network.all_to_all(3, 1, comm_qubits=1)  # kept whole it would need two copies on one QPU
    result = compile(qc, network, seed=1)
    _check_network_output(qc, result, network)
