"""dqc-compiler: distribute a quantum circuit over a network of QPUs, and prove it unchanged."""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Public names and the modules that define them. They are imported on first use (PEP 562), so that
#: ``dqc`` can install its Ctrl-C handling before qiskit is loaded (see :mod:`dqc_compiler.entry`).
_EXPORTS = {
    "DQCError": "errors",
    "EPRGate": "gates",
    "QPU": "network",
    "Link": "network",
    "Network": "network",
    "CompileResult": "pipeline",
    "compile": "pipeline",
    "generate_dqc_pass_manager": "pipeline",
    "batch": "sweeps",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
