"""One exception tree for the pipeline, rooted in builtins.

Stage code raises these; :mod:`pipeline.cli` turns them into exit codes at one
boundary (1 for bad data or a failed stage, 2 for bad usage).
"""


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class InputDataError(PipelineError, ValueError):
    """An input file is unreadable or its content breaks the contract (exit 1)."""


class ParamsError(PipelineError, ValueError):
    """params.yaml is malformed or holds an unknown key (exit 2: bad usage)."""


class GazetteerError(PipelineError):
    """The gazetteer is missing, stale or inconsistent (exit 1)."""


class GeocoderError(PipelineError, OSError):
    """An online geocoder failed: timeout, HTTP error, malformed answer (exit 1)."""


class OutputError(PipelineError, OSError):
    """An output could not be written (exit 1)."""
