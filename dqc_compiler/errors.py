"""Errors that the command line turns into a one-line message and exit code 2."""

from qiskit.transpiler.exceptions import TranspilerError


class DQCError(TranspilerError):
    """Unusable input: a bad file, a circuit the network cannot hold, an unknown gate.

    The message is one line that says what is wrong and where; ``dqc`` prints it and exits 2.
    It is a :class:`~qiskit.transpiler.exceptions.TranspilerError`, so pass-manager users can catch
    it the way they catch qiskit's own.
    """

    exit_code = 2

    def __str__(self) -> str:
        return self.message if hasattr(self, "message") else super().__str__()


class NoRoute(DQCError):
    """Two QPUs must share an ebit but no path of links joins them through QPUs that can relay.

    ``pipeline.compile`` catches it on a connected network and routes qubits onto neighbouring QPUs
    first (:mod:`dqc_compiler.neighbours`); elsewhere it is an ordinary one-line error.
    """
