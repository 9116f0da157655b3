"""The engine's error hierarchy.

Every error the engine raises on purpose derives from `EnclaveError`. `UserError`s are
caused by the person or the environment (a wrong passphrase, an unsupported file, a
missing model) and carry a message fit to show as is; each front end translates them
once (a dialog, an HTTP status, one line on the terminal). Anything else is a bug.
One raised with `said(code, **values)` also carries the code of its text in
engine/texts.py and the values in it, for a front end to show it in its own language.
"""

from .texts import Said, english


class EnclaveError(Exception):
    """Root of all errors raised deliberately by the engine."""

    code: str = ""
    """The code of the message in engine/texts.py ("": words of its own, not translated)."""
    values: dict = {}
    """The values the message's text names."""

    @classmethod
    def said(cls, code: str, **values):
        """This error with the text of `code` (engine/texts.py): its English as the message,
        and the code and values for a front end to translate."""
        error = cls(english(code, **values))
        error.code, error.values = code, values
        return error


class UserError(EnclaveError):
    """An error caused by input or environment; its message is shown to the user."""


class WrongKeyError(UserError):
    """The vault key or passphrase does not open the vault."""


class OlderKeyError(WrongKeyError):
    """A backup was made under a key the library has since replaced: it needs the passphrase
    or recovery key of that time. `changed_at` is when that key was replaced (None when
    the library does not know)."""

    def __init__(self, message: str, changed_at: float | None = None):
        super().__init__(message)
        self.changed_at = changed_at


class KeyUnavailableError(UserError):
    """No key could be obtained (no keyring entry and no passphrase given)."""


class VaultCorruptError(UserError):
    """A file in the data directory is damaged or not what it claims to be."""


class NotFoundError(UserError):
    """A named collection, document or file does not exist."""


class NotAllowedError(UserError):
    """The caller may not reach what it names: an API key scoped to collections named
    another collection."""


class AlreadyExistsError(UserError):
    """Something with that name already exists."""


class ModelUnavailableError(UserError):
    """A model file or folder is missing or cannot be loaded."""


class DocumentError(UserError):
    """A file could not be ingested; `reason` says why in a few words (a `Said`, with its
    code and values, when raised with `said`)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @classmethod
    def said(cls, code: str, **values):
        error = super().said(code, **values)
        error.reason = Said(code, **values)
        return error


class UnsupportedFileError(DocumentError):
    """The file type is not one Enclave can read."""


class FileTooLargeError(DocumentError):
    """The file is over the configured size limit."""


class EmptyDocumentError(DocumentError):
    """The file holds no extractable text."""


class EncryptedDocumentError(DocumentError):
    """The file is password-protected."""


class CorruptDocumentError(DocumentError):
    """The file is damaged or not of the type its name says."""


class OverBudgetError(DocumentError):
    """Reading the file would cost more time, memory, parts or paragraphs than a file may."""


class Cancelled(EnclaveError):
    """An operation was cancelled through its cancel token."""
