"""The exceptions of ``oembeddings``. The extension module (``python/src/errors.rs``) raises
these; the package re-exports the four public ones.

A file that cannot be opened, read or written is a :class:`FormatError` and also the
``OSError`` subclass Python itself raises for that cause, so that ``except
FileNotFoundError`` works as it does around ``open()``. Options that make no sense are a
``ValueError`` too. The classes that combine the two are private: catch either parent.
"""

from __future__ import annotations


class OEmbeddingsError(Exception):
    """Base class of every oembeddings error."""


class FormatError(OEmbeddingsError):
    """A file or Arrow stream that cannot be read, written or converted (a file that cannot
    be opened, read or written is also the matching ``OSError``: ``FileNotFoundError``,
    ``PermissionError``, ``FileExistsError``, ...)."""


class ValidationError(OEmbeddingsError):
    """Records that break the specification or a target's rules."""


class SignatureError(OEmbeddingsError):
    """Keys that cannot be loaded or used, and signing failures."""


class FileNotFound(FormatError, FileNotFoundError):
    """A file or directory that does not exist."""


class PermissionDenied(FormatError, PermissionError):
    """A file or directory this process may not read or write."""


class FileExists(FormatError, FileExistsError):
    """An output that exists and may not be replaced."""


class IsADirectory(FormatError, IsADirectoryError):
    """A directory where a file was expected."""


class NotADirectory(FormatError, NotADirectoryError):
    """A file where a directory was expected."""


class FileError(FormatError, OSError):
    """Any other failure to open, read or write a file (a full disk, an I/O error)."""


class InvalidOptions(FormatError, ValueError):
    """Options that make no sense for this input or output."""
