"""The report (JSON contract, schema 1): what went in, where it went, what it costs."""

from __future__ import annotations

import json
import math

from qiskit import QuantumCircuit

from .errors import DQCError
from .network import Network

SCHEMA = 1


def input_summary(circuit: QuantumCircuit) -> dict:
    """The report's ``input`` object."""
    ops = [i for i in circuit.data if i.operation.name not in ("barrier",)]
    gates = [i for i in ops if i.operation.name not in ("measure", "reset", "delay")]
    return {
        "name": circuit.name,
        "num_qubits": circuit.num_qubits,
        "num_ops": len(ops),
        "num_2q_gates": sum(1 for i in gates if len(i.qubits) == 2),
        "num_3q_plus_gates": sum(1 for i in gates if len(i.qubits) >= 3),
    }


def dumps_json(document, indent: int | None = 2) -> str:
    """Strict JSON text of a report or result: a non-finite number (``Infinity``/``NaN``, which is not
    JSON) is a one-line :class:`DQCError` naming its key, never written."""
    try:
        return json.dumps(document, indent=indent, allow_nan=False)
    except ValueError:
        key, value = _first_non_finite(document)
        if not key:
            raise
        raise DQCError(f"the result holds {key} = {value}, which JSON cannot represent; "
                       "check the input's numbers (times, rates, fidelities) for inf or nan") from None


def _first_non_finite(value, where: str = "") -> tuple[str, float]:
    """The dotted key and value of the first non-finite number in a JSON-like document."""
    if isinstance(value, float) and not math.isfinite(value):
        return where or "the value", value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _first_non_finite(item, f"{where}.{key}" if where and isinstance(key, str)
                                  else f"{where}[{key}]" if where else str(key))
        if found[0] != "":
            return found
    return "", math.nan


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
        "layout": {"initial": layout["initial"], "final": layout["final"]} | ({"routed": True} if layout.get("routed") else {}),
        "cost": dict(properties["dqc_cost"]),
        "schedule": dict(properties["dqc_schedule"]),
        "optimization": {
            "level": optimization_level,
            "absorbed_final_swaps": int(properties.get("dqc_absorbed_swaps") or 0),
        },
        "timing": {"compile_seconds": round(compile_seconds, 4)},
    } | ({"local": dict(properties["dqc_local"])} if properties.get("dqc_local") else {})
