"""`Network.to_target()`: a qiskit Target of the machine that the compiler's output fits and that pickles."""

from __future__ import annotations

import pickle

from qiskit.synthesis import synth_qft_full

import dqc_compiler
from dqc_compiler import Network
from dqc_compiler.network import DQCTarget


def test_target_models_local_gates_and_epr_between_linked_comm_qubits():
    network = Network.from_dict({
        "qpus": [{"name": "a", "data_qubits": 2, "comm_qubits": 1}, {"name": "b", "data_qubits": 2},
                 {"name": "c", "data_qubits": 1, "comm_qubits": 1}],
        "links": [["a", "b"], ["b", "c"]],
    })
    target = network.to_target()
    assert target.num_qubits == 3 + 4 + 2  # a: 0,1 data + 2 comm; b: 3,4 data + 5,6 comm; c: 7 data + 8 comm
    assert target.instruction_supported("cx", (0, 1)) and target.instruction_supported("cp", (3, 6))
    assert not target.instruction_supported("cx", (1, 3))  # across QPUs
    assert target.instruction_supported("epr", (2, 5)) and target.instruction_supported("epr", (6, 8))
    assert not target.instruction_supported("epr", (2, 8))  # a and c are not linked
    assert not target.instruction_supported("epr", (0, 3))  # data qubits never share ebits
    assert target.instruction_supported("measure", (7,)) and "if_else" in target.operation_names
    again = pickle.loads(pickle.dumps(target))
    assert again.num_qubits == target.num_qubits and set(again.operation_names) == set(target.operation_names)
    # the transpiler plugins find the network on the target, also after pickling (num_processes > 1)
    assert isinstance(again, DQCTarget) and again.network == network and target.network is network
    assert again.instruction_supported("epr", (2, 5)) and not again.instruction_supported("cx", (1, 3))


def test_compiled_output_fits_the_target():
    network = Network.for_circuit(8, 2)
    target = network.to_target()
    result = dqc_compiler.compile(synth_qft_full(8, do_swaps=False), network, seed=1)
    physical = {q: i for i, q in enumerate(q for register in result.circuit.qregs for q in register)}
    for instruction in result.circuit.data:
        qargs = tuple(physical[q] for q in instruction.qubits)
        assert target.instruction_supported(instruction.operation.name, qargs), (instruction.operation.name, qargs)
