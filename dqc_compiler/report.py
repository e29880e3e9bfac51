"""The report (JSON contract, schema 1): what went in, where it went, what it costs."""

from __future__ import annotations

from qiskit import QuantumCircuit

from .network import Network

SCHEMA = 1


def input_summary(circuit: QuantumCircuit) -> dict:
    """The report's ``input`` object."""
    ops = [i for i in circuit.data if i.operation.name not in ("barrier",)]
    return {
        "name": circuit.name,
        "num_qubits": circuit.num_qubits,
        "num_ops": len(ops),
        "num_2q_gates": sum(1 for i in ops if len(i.qubits) == 2 and i.operation.name not in ("measure",)),
    }


def build_report(
    circuit: QuantumCircuit,
    network: Network,
    properties: dict,
    distributed: QuantumCircuit,
    compile_seconds: float,
    optimization_level: int | None = None,
) -> dict:
    """Assemble the report from the pipeline's property set."""
    layout = distributed.metadata["dqc_layout"]
    return {
        "schema": SCHEMA,
        "input": input_summary(circuit),
        "network": network.to_dict(),
        "layout": {"initial": layout["initial"], "final": layout["final"]},
        "cost": dict(properties["dqc_cost"]),
        "schedule": dict(properties["dqc_schedule"]),
        "optimization": {
            "level": optimization_level,
            "absorbed_final_swaps": int(properties.get("dqc_absorbed_swaps") or 0),
        },
        "timing": {"compile_seconds": round(compile_seconds, 4)},
    }
