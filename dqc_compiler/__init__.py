"""dqc-compiler: distribute a quantum circuit over a network of QPUs, and prove it unchanged."""

from .errors import DQCError
from .gates import EPRGate
from .network import QPU, Link, Network
from .pipeline import CompileResult, compile, generate_dqc_pass_manager

__version__ = "0.1.0"

__all__ = [
    "DQCError",
    "EPRGate",
    "QPU",
    "Link",
    "Network",
    "CompileResult",
    "compile",
    "generate_dqc_pass_manager",
    "__version__",
]
