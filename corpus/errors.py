"""One exception hierarchy, rooted at CorpusError, each error carrying a stable code.

Callers (the CLI, the report writer) catch ``CorpusError`` and turn it into a message or a
finding; anything else that escapes is an internal bug and is reported as such.
"""

from __future__ import annotations


class CorpusError(Exception):
    """Base of every error corpus raises on purpose.

    ``code`` is a stable string users can grep for and filter on; ``path`` and ``line`` say
    where in the input the problem is, when that is known.
    """

    code: str = "CORPUS_ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        return f"{where}{self.code}: {self.message}"


class InputRejected(CorpusError):
    """An input file cannot become a document (empty, binary, undecodable, no body...)."""

    code = "INPUT_REJECTED"


class ConfigError(CorpusError):
    """A user setting, option or configuration file is wrong."""

    code = "CONFIG_ERROR"


class PluginError(CorpusError):
    """A plugin failed, broke its hook's contract, or could not be loaded."""

    code = "PLUGIN_ERROR"

    def __init__(self, message: str, *, plugin: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.plugin = plugin


class UnknownFormat(CorpusError):
    """No reader or exporter is registered under the requested name or for a file type."""

    code = "UNKNOWN_FORMAT"


class ExportError(CorpusError):
    """A document could not be serialized by an exporter."""

    code = "EXPORT_ERROR"


class OutputError(CorpusError):
    """An output cannot be written where it was asked for (escape, collision, permissions)."""

    code = "OUTPUT_ERROR"


class StoreError(CorpusError):
    """The document store is unavailable, locked, corrupt or of an unknown schema."""

    code = "STORE_ERROR"


class NotFound(CorpusError):
    """A document key or version that does not exist."""

    code = "NOT_FOUND"
