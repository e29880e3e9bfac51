"""The qiskit transpiler plugins: `transpile(..., layout_method="dqc", routing_method="dqc")` distributes, and qiskit keeps it so."""

from __future__ import annotations

import importlib
import importlib.metadata
import re

import pytest
from qiskit import QuantumCircuit, qpy, transpile
from qiskit.synthesis import synth_qft_full
from qiskit.transpiler import Layout, Target, TranspilerError, generate_preset_pass_manager
from qiskit.transpiler.preset_passmanagers.plugin import PassManagerStagePlugin, list_stage_plugins
from qiskit.utils import should_run_in_parallel

import dqc_compiler
from dqc_compiler.cli import main
from dqc_compiler.io import dumps_qasm2, write_atomically
from dqc_compiler.plugin import DQCLayoutPlugin, DQCRoutingPlugin, physical_blocks, to_qpu_registers
from dqc_compiler.testing import assert_equivalent

from .conftest import ROOT

GROUPS = {"qiskit.transpiler.layout": DQCLayoutPlugin, "qiskit.transpiler.routing": DQCRoutingPlugin}


def _ghz_measured() -> QuantumCircuit:
    """GHZ on 5 qubits, a diagonal gate just before the final measurements (qiskit drops it at levels 2-3)."""
    qc = QuantumCircuit(5, 5, name="ghz_measured")
    qc.h(0)
    for i in range(4):
        qc.cx(i, i + 1)
    qc.rz(0.3, 2)
    qc.measure(range(5), range(5))
    return qc


def _toffolis() -> QuantumCircuit:
    qc = QuantumCircuit(6, name="toffolis")
    qc.h([0, 1, 3])
    qc.ccx(0, 1, 2)
    qc.ccx(3, 4, 5)
    qc.cp(0.7, 2, 5)
    qc.swap(0, 5)  # a final swap: absorbed into the layout
    return qc


CIRCUITS = {
    "qft6": (lambda: synth_qft_full(6), 2),
    "ghz_measured": (_ghz_measured, 3),
    "toffolis": (_toffolis, 3),
}


def assert_distributed(circuit: QuantumCircuit, network: dqc_compiler.Network) -> None:
    """Every operation but ``epr`` and barriers inside one QPU; ``epr`` between comm qubits of two
    QPUs; as many ``epr`` as the compiler's cost says. Read off the physical qubits alone."""
    owner, comm = {}, set()
    for j, (first, first_comm, end) in enumerate(physical_blocks(network)):
        owner.update({p: j for p in range(first, end)})
        comm.update(range(first_comm, end))
    index = {q: i for i, q in enumerate(circuit.qubits)}
    eprs = 0
    for instruction in circuit.data:
        name, qubits = instruction.operation.name, [index[q] for q in instruction.qubits]
        if name == "barrier":
            continue
        if name == "epr":
            eprs += 1
            assert len({owner[p] for p in qubits}) == 2 and set(qubits) <= comm, qubits
            continue
        assert len({owner[p] for p in qubits}) == 1, f"{name} on {qubits} spans QPUs"
        for block in getattr(instruction.operation, "blocks", ()):
            assert all(i.operation.name not in ("measure", "reset", "if_else") for i in block.data)
    assert eprs == circuit.metadata["dqc_cost"]["ebits"]


# ---------------------------------------------------------------------- registration
def _pyproject_entry_points() -> dict[str, dict[str, str]]:
    groups: dict[str, dict[str, str]] = {}
    group = None
    for line in (ROOT / "pyproject.toml").read_text().splitlines():
        header = re.match(r'\[project\.entry-points\."([^"]+)"\]', line.strip())
        if header:
            group = groups.setdefault(header.group(1), {})
        elif line.startswith("["):
            group = None
        elif group is not None and "=" in line:
            name, value = (part.strip().strip('"') for part in line.split("=", 1))
            group[name] = value
    return groups


def test_pyproject_declares_the_plugins():
    declared = _pyproject_entry_points()
    for group, cls in GROUPS.items():
        module, _, name = declared[group]["dqc"].partition(":")
        plugin = getattr(importlib.import_module(module), name)
        assert plugin is cls and issubclass(plugin, PassManagerStagePlugin)


def test_installed_entry_points_resolve():
    """Needs the package installed (``pip install -e .``), as CI does: then qiskit finds the plugins."""
    for group, cls in GROUPS.items():
        found = {e.name: e for e in importlib.metadata.entry_points(group=group)}
        assert "dqc" in found, f"no 'dqc' entry point in {group}: reinstall with pip install -e ."
        assert found["dqc"].load() is cls
    assert "dqc" in list_stage_plugins("layout") and "dqc" in list_stage_plugins("routing")


# ---------------------------------------------------------------------- transpile
@pytest.fixture(scope="module")
def networks():
    return {name: dqc_compiler.Network.for_circuit(make().num_qubits, k) for name, (make, k) in CIRCUITS.items()}


@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_transpile_distributes_and_qiskit_keeps_it(name, level, networks):
    circuit, network = CIRCUITS[name][0](), networks[name]
    out = transpile(circuit, target=network.to_target(), layout_method="dqc", routing_method="dqc",
                    optimization_level=level, seed_transpiler=1)
    assert_distributed(out, network)
    assert_equivalent(circuit, out)


def test_plugin_matches_compile_when_qiskit_leaves_the_circuit_alone():
    circuit = synth_qft_full(8, do_swaps=False)
    network = dqc_compiler.Network.for_circuit(8, 2)
    out = transpile(circuit, target=network.to_target(), layout_method="dqc", routing_method="dqc",
                    optimization_level=2, seed_transpiler=1)
    assert out.metadata["dqc_cost"]["ebits"] == dqc_compiler.compile(circuit, network, seed=1).report["cost"]["ebits"] == 4


def test_generate_preset_pass_manager_and_property_set():
    circuit = _ghz_measured()
    network = dqc_compiler.Network.for_circuit(5, 3)
    pm = generate_preset_pass_manager(optimization_level=2, target=network.to_target(), layout_method="dqc",
                                      routing_method="dqc", seed_transpiler=1)
    out = pm.run(circuit)
    assert pm.property_set["dqc_cost"]["ebits"] == out.count_ops()["epr"] == 2
    assert len(pm.property_set["dqc_partition"]) == 5
    assert_distributed(out, network)
    assert_equivalent(circuit, out)


def test_num_processes_2_pickles_target_and_passes():
    circuits = [synth_qft_full(6), _ghz_measured()]
    network = dqc_compiler.Network.for_circuit(6, 2)
    with should_run_in_parallel.override(True):  # qiskit runs serially unless asked; force the worker processes
        outs = transpile(circuits, target=network.to_target(), layout_method="dqc", routing_method="dqc",
                         num_processes=2, seed_transpiler=1)
    for circuit, out in zip(circuits, outs):
        assert_distributed(out, network)
        assert_equivalent(circuit, out)


def test_initial_layout_wins_over_the_dqc_layout():
    circuit = synth_qft_full(4, do_swaps=False)
    network = dqc_compiler.Network.for_circuit(4, 2)  # qpu0: physical 0, 1 data, 2, 3 comm; qpu1: 4, 5 data
    out = transpile(circuit, target=network.to_target(), layout_method="dqc", routing_method="dqc",
                    initial_layout=[5, 0, 4, 1], seed_transpiler=1)
    assert out.layout.initial_index_layout(filter_ancillas=True) == [5, 0, 4, 1]
    assert_distributed(out, network)
    assert_equivalent(circuit, out)


def test_to_qpu_registers_regroups_by_qpu():
    circuit = _toffolis()
    network = dqc_compiler.Network.for_circuit(6, 3)
    out = transpile(circuit, target=network.to_target(), layout_method="dqc", routing_method="dqc", seed_transpiler=1)
    view = to_qpu_registers(out)
    assert [(r.name, r.size) for r in view.qregs] == [(q.name, q.data_qubits + q.comm_qubits) for q in network.qpus]
    layout = view.metadata["dqc_layout"]
    blocks = physical_blocks(network)
    for key, physical in (("initial", out.layout.initial_index_layout(filter_ancillas=True)),
                          ("final", out.layout.final_index_layout(filter_ancillas=True))):
        assert [blocks[network.index(e["qpu"])][0] + e["index"] for e in layout[key]] == physical
    assert layout["initial"] != layout["final"]  # the final swap was absorbed, not executed
    assert "swap" not in out.count_ops()


def test_errors_are_actionable():
    circuit = synth_qft_full(4)
    network = dqc_compiler.Network.for_circuit(4, 2)
    plain = Target.from_configuration(["cx", "h", "p"], num_qubits=network.to_target().num_qubits)
    with pytest.raises(TranspilerError, match=r"target of a dqc network.*network\.to_target\(\)"):
        transpile(circuit, target=plain, layout_method="dqc", routing_method="dqc")
    with pytest.raises(TranspilerError, match="not a data qubit"):  # qubit 2 on a comm qubit
        transpile(circuit, target=network.to_target(), layout_method="trivial", routing_method="dqc")
    too_big = dqc_compiler.Network.all_to_all(2, data_qubits=1)
    with pytest.raises(TranspilerError, match="4 qubits|holds only"):
        transpile(circuit, target=too_big.to_target(), layout_method="dqc", routing_method="dqc")


def test_layout_on_a_comm_qubit_refused_by_name():
    network = dqc_compiler.Network.for_circuit(2, 2)
    qc = QuantumCircuit(2)
    qc.cx(0, 1)
    layout = Layout.from_intlist([1, 3], *qc.qregs)  # physical 1 is qpu0's first comm qubit
    with pytest.raises(TranspilerError, match="input qubit 0 .* physical qubit 1"):
        transpile(qc, target=network.to_target(), initial_layout=layout, layout_method="dqc", routing_method="dqc")


def test_transpiled_circuit_round_trips_through_qpy_and_dqc_verify(tmp_path, capsys):
    circuit = synth_qft_full(6)
    network = dqc_compiler.Network.for_circuit(6, 2)
    out = transpile(circuit, target=network.to_target(), layout_method="dqc", routing_method="dqc", seed_transpiler=1)
    with open(tmp_path / "original.qpy", "wb") as handle:
        qpy.dump(circuit, handle)
    with open(tmp_path / "transpiled.qpy", "wb") as handle:
        qpy.dump(out, handle)
    write_atomically(tmp_path / "regrouped.qasm", dumps_qasm2(to_qpu_registers(out)).encode())
    for distributed in ("transpiled.qpy", "regrouped.qasm"):
        assert main(["verify", str(tmp_path / "original.qpy"), str(tmp_path / distributed)]) == 0, capsys.readouterr()
