"""Real QPUs inside: coupling maps, native gates and local routing per QPU (issue 17)."""

from __future__ import annotations

import json

import pytest
from qiskit import QuantumCircuit
from qiskit.synthesis import adder_ripple_c04, synth_qft_full
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import CheckMap
from qiskit_aer import AerSimulator

from dqc_compiler import DQCError, Network, compile
from dqc_compiler.io import load_circuit
from dqc_compiler.passes import route_qpus
from dqc_compiler.split import assemble, split_programs
from dqc_compiler.testing import assert_equivalent

CONTROL = {"measure", "reset", "if_else", "epr_half", "barrier"}


def _line_pair(size=6, data=4, comm=(0,), backend=False):
    qpu = {"data_qubits": data, "coupling_map": f"line:{size}", "comm_physical": list(comm)}
    if backend:
        qpu["backend"] = f"generic:{size}"
    return Network.from_dict({"qpus": [{"name": "a", **qpu}, {"name": "b", **qpu}]})


def _heavy_hex_pair(data=4):
    qpu = {"data_qubits": data, "backend": "generic:19", "coupling_map": "heavy_hex:3", "comm_physical": [2, 6]}
    return Network.from_dict({"qpus": [{"name": "left", **qpu}, {"name": "right", **qpu}]})


def _ion_traps(k=3, data=3):
    trap = {"data_qubits": data, "coupling_map": f"all_to_all:{data + 2}", "basis_gates": ["rxx", "rz", "ry"],
            "comm_physical": [data, data + 1], "gate_durations": {"rxx": 200.0, "ry": 10.0, "rz": 0.0, "measure": 100.0}}
    return Network.from_dict({"qpus": [{"name": f"trap{i}", **trap} for i in range(k)],
                              "links": [[f"trap{i}", f"trap{i + 1}"] for i in range(k - 1)]})


def _line_of_lines(k=4, data=3):
    qpu = {"data_qubits": data, "coupling_map": f"line:{data + 2}", "comm_physical": [0, data + 1]}
    return Network.from_dict({"qpus": [{"name": f"q{i}", **qpu} for i in range(k)],
                              "links": [[f"q{i}", f"q{i + 1}"] for i in range(k - 1)]})


def _qft(n):
    qc = synth_qft_full(n, do_swaps=False)
    qc.name = f"qft{n}"
    return qc


def _qaoa(n, layers=1):
    qc = QuantumCircuit(n, name=f"qaoa{n}")
    qc.h(range(n))
    for layer in range(layers):
        for i in range(n):
            qc.rzz(0.4 + 0.1 * layer, i, (i + 1) % n)
        qc.rx(0.7, range(n))
    return qc


def _adder():
    qc = adder_ripple_c04(2, kind="half").decompose()
    qc.name = "adder2"
    return qc


def _check_programs(result, run_aer=False):
    """Each per-QPU program: on its coupling map (CheckMap), in its basis, runs on Aer; the split reassembles."""
    programs, messages = split_programs(result.circuit, result.property_set["dqc_timeline"], result.network)
    for qpu in result.network.qpus:
        program, device = programs[qpu.name], qpu.device
        manager = PassManager([CheckMap(device.coupling_map())])
        manager.run(program)
        assert manager.property_set["is_swap_mapped"], qpu.name
        names = set(program.count_ops())
        inner = {g.operation.name for i in program.data if i.operation.name == "if_else"
                 for g in i.operation.blocks[0].data}
        assert names <= set(device.basis) | CONTROL, (qpu.name, names)
        assert inner <= set(device.basis), (qpu.name, inner)
        assert program.num_qubits in (0, device.num_qubits)
        if run_aer and program.num_qubits:
            runnable = program.copy_empty_like()
            for instruction in program.data:
                if instruction.operation.name != "epr_half":
                    runnable.append(instruction)
            backend = device.qiskit_backend()
            simulator = AerSimulator.from_backend(backend) if backend is not None else AerSimulator()
            assert simulator.run(runnable, shots=8, seed_simulator=1).result().success
    back = assemble(programs, messages)
    back.metadata = result.circuit.metadata
    return back


# ---------------------------------------------------------------------- network files
def test_device_keys_are_read():
    net = Network.from_file("docs/networks/heavy_hex_pair.json")
    left = net.qpus[0]
    assert left.comm_qubits == 2 and left.device.comm_physical == (2, 6)
    assert left.device.num_qubits == 19 and len(left.device.edges) == 20
    assert left.device.basis == ("cx", "rz", "sx", "x")
    assert left.device.duration("cx", 1.0) > 0  # the backend's, in microseconds
    assert net.to_dict()["qpus"][0]["device"]["coupling_map"] == "heavy_hex:3"
    ions = Network.from_file("docs/networks/ion_traps.json")
    assert ions.qpus[0].device.basis == ("rxx", "rz", "ry") and ions.qpus[0].device.duration("rxx", 1) == 200.0


@pytest.mark.parametrize("qpu, message", [
    ({"coupling_map": [[0, 1], [1, 2], [2, 3], [3, 4], [5, 6], [6, 7]]},
     "the coupling map is not connected (qubits 5, 6, 7 cannot be reached from qubit 0)"),
    ({"coupling_map": "line:6", "comm_physical": [9]}, "comm_physical: qubit 9 is not on the 6-qubit coupling map"),
    ({"coupling_map": "line:4", "comm_physical": [3]}, "4 physical qubits cannot hold 4 data + 1 comm qubits"),
    ({"coupling_map": "line:6", "comm_physical": [0, 0]}, "comm_physical: a qubit is listed twice"),
    ({"coupling_map": "hex:3"}, "coupling map 'hex:3' not understood"),
    ({"coupling_map": "line:6", "basis_gates": ["cx", "foo"]}, "'foo' is not a one- or two-qubit qiskit standard gate"),
    ({"coupling_map": "line:6", "basis_gates": ["rz", "sx"]}, "no two-qubit gate"),
    ({"backend": "fake_sherbrooke"}, "'fake_sherbrooke' not understood: expected generic:N"),
    ({"coupling_map": "line:6", "comm_qubits": 2, "comm_physical": [0]}, "comm_qubits = 2 but comm_physical lists 1"),
    ({"coupling_map": "line:6", "gate_durations": {"cx": -1}}, "gate_durations.cx: expected a non-negative number"),
    ({"comm_physical": [0]}, "give 'coupling_map' or 'backend'"),
])
def test_bad_devices_are_one_line_errors(tmp_path, qpu, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"qpus": [{"name": "a", "data_qubits": 4, **qpu}]}))
    with pytest.raises(DQCError) as info:
        Network.from_file(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value) and str(info.value).startswith(f"{path}: qpus[0]")


def test_cli_bad_device_exits_2(tmp_path, capsys):
    from dqc_compiler.cli import main

    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"qpus": [{"name": "a", "data_qubits": 2, "coupling_map": [[0, 1], [2, 3]]},
                                         {"name": "b", "data_qubits": 2}]}))
    assert main(["compile", "benchmarks/circuits/qft_noswap_4.qasm", "--network", str(path)]) == 2
    assert "coupling map is not connected" in capsys.readouterr().err


# ---------------------------------------------------------------------- compile, route, verify
@pytest.mark.parametrize("make_net, circuit", [
    (lambda: _line_pair(comm=(0,)), _qft(6)),
    (lambda: _line_pair(comm=(5,), backend=True), _qaoa(6)),
    (lambda: _heavy_hex_pair(3), _qft(6)),
    (lambda: _ion_traps(3, 3), _qft(7)),
    (lambda: _ion_traps(2, 3), _qaoa(6)),
    (lambda: _line_of_lines(4, 2), _qaoa(8)),
    (lambda: _line_pair(size=6, data=4, comm=(0,)), _adder()),
])
def test_compile_routes_and_verifies(make_net, circuit):
    net = make_net()
    result = compile(circuit, net, seed=1)
    assert_equivalent(circuit, result.circuit)
    local = result.report["local"]
    assert set(local) == {q.name for q in net.qpus}
    assert all(entry["swaps"] >= 0 and entry["two_qubit_gates"] >= 0 for entry in local.values())
    assert result.report["layout"]["routed"] is True
    back = _check_programs(result, run_aer=True)
    assert_equivalent(circuit, back)


@pytest.mark.slow
def test_grover_on_heavy_hex_with_measurements():
    circuit = load_circuit("benchmarks/circuits/grover_5.qasm")
    result = compile(circuit, _heavy_hex_pair(3), seed=2)
    assert result.report["cost"]["ebits"] >= 1
    assert_equivalent(circuit, result.circuit)
    _check_programs(result, run_aer=True)


def test_a_line_needs_swaps_and_the_layout_follows_them():
    circuit = _qft(8)
    result = compile(circuit, _line_pair(size=6, data=4, comm=(0,)), seed=1)
    assert sum(entry["swaps"] for entry in result.report["local"].values()) > 0
    assert result.report["layout"]["initial"] != result.report["layout"]["final"]
    assert_equivalent(circuit, result.circuit)


def test_schedule_uses_device_durations():
    circuit = _qft(6)
    slow = compile(circuit, _ion_traps(2, 3), seed=1).report["schedule"]["makespan"]
    fast_net = _ion_traps(2, 3)
    plain = compile(circuit, Network.from_dict({"qpus": [
        {"name": q.name, "data_qubits": q.data_qubits, "comm_qubits": q.comm_qubits} for q in fast_net.qpus],
        "links": [list(link.between) for link in fast_net.links]}), seed=1).report["schedule"]["makespan"]
    assert slow > 10 * plain  # rxx 200 units against gate_time 1


def test_networks_without_devices_are_untouched():
    circuit = _qft(6)
    result = compile(circuit, qpus=2, seed=1)
    assert "local" not in result.report and "routed" not in result.report["layout"]
    assert not result.circuit.metadata.get("dqc_native")


# ---------------------------------------------------------------------- negative controls
def test_a_lost_swap_is_caught(monkeypatch):
    """Routing that forgets one SWAP (its bookkeeping kept) gives a circuit verification rejects."""
    original = route_qpus._Part.route

    def lose_one(self, seed):
        original(self, seed)
        for i, (tag, op, _qargs, _cargs) in enumerate(self.ops):
            if op.name == "swap":
                del self.ops[i]
                break

    monkeypatch.setattr(route_qpus._Part, "route", lose_one)
    circuit = _qft(8)
    result = compile(circuit, _line_pair(size=6, data=4, comm=(0,)), seed=1)
    with pytest.raises(AssertionError, match="not equivalent"):
        assert_equivalent(circuit, result.circuit)


def test_a_wrong_final_layout_is_caught():
    circuit = _qft(8)
    result = compile(circuit, _line_pair(size=6, data=4, comm=(0,)), seed=1)
    layout = json.loads(json.dumps(result.report["layout"]))
    layout["final"] = layout["initial"]
    assert layout["final"] != result.report["layout"]["final"]
    with pytest.raises(AssertionError, match="not equivalent"):
        assert_equivalent(circuit, result.circuit, layout=layout)


def _mixed():
    """A plain QPU, a cz line with its comm qubit in the middle, an ecr ring."""
    return Network.from_dict({"qpus": [
        {"name": "plain", "data_qubits": 3},
        {"name": "dev", "data_qubits": 3, "coupling_map": "line:5", "comm_physical": [2],
         "basis_gates": ["cz", "rz", "sx", "x"]},
        {"name": "ring", "data_qubits": 3, "coupling_map": "ring:5", "comm_physical": [0, 3],
         "basis_gates": ["ecr", "rz", "sx", "x"]}]})


@pytest.mark.parametrize("level", [0, 1, 3])
def test_mixed_network_at_every_level(level):
    circuit = _qft(8)
    result = compile(circuit, _mixed(), seed=3, optimization_level=level)
    assert set(result.report["local"]) == {"dev", "ring"}
    assert {r.name: r.size for r in result.circuit.qregs}["plain"] <= 3 + 2  # untouched: data placed + comm
    assert_equivalent(circuit, result.circuit)
    for qpu in result.network.qpus[1:]:
        register = next(r for r in result.circuit.qregs if r.name == qpu.name)
        assert register.size == qpu.device.num_qubits


def test_dynamic_input_and_kept_toffolis_on_devices():
    circuit = QuantumCircuit(7, 2)
    circuit.h(0)
    circuit.cx(0, 4)
    circuit.measure(4, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(5)
    circuit.cx(5, 1)
    circuit.ccx(0, 1, 3)
    circuit.ccz(0, 6, 2)
    circuit.reset(2)
    circuit.h(2)
    circuit.cx(2, 5)
    circuit.measure(5, 1)
    result = compile(circuit, _mixed(), seed=1)
    assert result.report["cost"]["ebits"] >= 1
    assert_equivalent(circuit, result.circuit)


def test_backend_noise_reaches_the_noisy_simulation():
    """A QPU read from GenericBackendV2 carries the backend's mean error rates and T1/T2 (microseconds),
    and `simulate(..., noisy=True)` runs the routed native circuit under them."""
    from dqc_compiler.noise import simulate

    net = _line_pair(size=5, data=3, comm=(4,), backend=True)
    qpu = net.qpus[0]
    assert 0 < qpu.gate_error_1q < qpu.gate_error_2q < 0.05 and 0 < qpu.readout_error < 0.1
    assert 10 < qpu.t1 < 1e4 and qpu.t2 <= 2 * qpu.t1
    given = Network.from_dict({"qpus": [{"name": "a", "data_qubits": 3, "backend": "generic:5",
                                         "coupling_map": "line:5", "comm_physical": [4], "gate_error_2q": 0.0}]})
    assert given.qpus[0].noiseless  # any noise key in the file: the file's noise, not the backend's
    circuit = _qft(4)
    circuit.measure_all()
    result = compile(circuit, net, seed=1)
    noisy = simulate(circuit, result, noisy=True, seed=1)
    ideal = simulate(circuit, result, noisy=False, seed=1)
    assert ideal.to_dict()["hellinger_fidelity"] == pytest.approx(1.0)
    assert noisy.to_dict()["hellinger_fidelity"] < 1.0


def test_cli_split_files_pass_checkmap(tmp_path, capsys):
    """`dqc compile --network <ion traps> --split DIR --verify`: the files on disk load back, each on
    its coupling map, in its basis, and `dqc verify` accepts the output file."""
    from dqc_compiler.cli import main
    from dqc_compiler.split import read_split

    out, split = tmp_path / "out.qasm", tmp_path / "split"
    assert main(["compile", "benchmarks/circuits/qft_noswap_8.qasm", "--network", "docs/networks/ion_traps.json",
                 "-o", str(out), "--split", str(split), "--verify", "--seed", "1"]) == 0
    assert "verification: equivalent" in capsys.readouterr().out
    programs, _messages = read_split(split)
    net = Network.from_file("docs/networks/ion_traps.json")
    for qpu in net.qpus:
        program = programs[qpu.name]
        manager = PassManager([CheckMap(qpu.device.coupling_map())])
        manager.run(program)
        assert manager.property_set["is_swap_mapped"]
        assert set(program.count_ops()) <= set(qpu.device.basis) | CONTROL
    assert main(["verify", "benchmarks/circuits/qft_noswap_8.qasm", str(out)]) == 0


def test_transpiler_plugins_refuse_device_networks():
    from qiskit import transpile
    from qiskit.transpiler.exceptions import TranspilerError

    net = _ion_traps(2, 3)
    with pytest.raises(TranspilerError, match="use dqc_compiler.compile"):
        transpile(_qft(4), target=net.to_target(), layout_method="dqc", routing_method="dqc", seed_transpiler=1)


def test_conditioned_gates_keep_their_phase(tmp_path):
    """`if (c) t q` in native gates is `if (c) rz(pi/4) q` up to a phase that, with ``c`` an input bit
    (deferred by the verifier to a qubit), counts: the body keeps it as its global phase, and QPY
    keeps it. A body that drops it is caught."""
    from qiskit import qpy

    from dqc_compiler.verify import verify

    circuit = QuantumCircuit(6, 1)
    circuit.h(0)
    circuit.h(1)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.ccx(1, 2, 3)
    circuit.cx(3, 5)
    net = Network.from_dict({"qpus": [{"name": "a", "data_qubits": 3, "coupling_map": "line:5", "comm_physical": [0]},
                                      {"name": "b", "data_qubits": 3, "coupling_map": "line:5", "comm_physical": [4]}]})
    result = compile(circuit, net, seed=1)
    assert_equivalent(circuit, result.circuit)
    path = tmp_path / "out.qpy"
    with open(path, "wb") as handle:
        qpy.dump(result.circuit, handle)
    with open(path, "rb") as handle:
        assert verify(circuit, qpy.load(handle)[0], method="exact").equivalent
    phased = [n for n, i in enumerate(result.circuit.data) if i.operation.name == "if_else"
              and i.operation.blocks[0].global_phase
              and result.circuit.find_bit(i.operation.condition[0]).registers[0][0].name == "c"]  # an input bit
    assert phased
    broken = result.circuit.copy_empty_like()
    for n, instruction in enumerate(result.circuit.data):
        if n == phased[0]:
            body = instruction.operation.blocks[0].copy()
            body.global_phase = 0
            instruction = instruction.replace(operation=instruction.operation.replace_blocks([body]))
        broken.append(instruction)
    assert not verify(circuit, broken, method="exact").equivalent


def _random_circuit(seed: int, n: int) -> QuantumCircuit:
    import random

    rng = random.Random(seed)
    qc = QuantumCircuit(n, 2)
    for _ in range(rng.randint(8, 25)):
        k, qs = rng.random(), rng.sample(range(n), 3)
        if k < 0.3:
            qc.cx(qs[0], qs[1])
        elif k < 0.45:
            qc.cp(rng.random(), qs[0], qs[1])
        elif k < 0.6:
            qc.h(qs[0])
        elif k < 0.7:
            qc.t(qs[0])
        elif k < 0.78:
            qc.ccx(*qs)
        elif k < 0.85:
            qc.rzz(rng.random(), qs[0], qs[1])
        elif k < 0.9:
            qc.swap(qs[0], qs[1])
        elif k < 0.95:
            qc.measure(qs[0], 0)
            with qc.if_test((qc.clbits[0], 1)):
                qc.x(qs[1])
        else:
            qc.ry(rng.random(), qs[0])
    qc.measure(0, 1)
    return qc


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_random_circuits_on_devices(seed):
    """Random circuits (mid-circuit measurements, conditions, Toffolis, swaps) on line, mixed and
    ion-trap networks at every level: the exact check passes."""
    from dqc_compiler.verify import verify

    networks = [_line_of_lines(3, 3), _mixed(), _ion_traps(3, 2)]
    network = networks[seed % 3]
    circuit = _random_circuit(seed, 6)
    result = compile(circuit, network, seed=seed, optimization_level=seed % 4)
    assert verify(circuit, result.circuit, method="exact").equivalent
