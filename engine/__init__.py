"""Enclave's headless engine. Front ends (the desktop app, the CLI, the LAN API, benchmarks
and scripts) import from here only: the facade `EnclaveService`, the records it returns,
the errors it raises, what is needed before a library is open, and the masking of
personal data for what a front end shows.

The subpackages (`store`, `ingest`, `retrieval`, `answers`, `ops`, `facade`) are the
engine's own rooms; `make test` checks with import-linter that no front end walks into them.
"""

from .answers.answerer import Answer, AnswerStream, Source
from .answers.chats import Chat, Message
from .answers.followups import Turn
from .answers.grounding import Relevance
from .answers.sources import Passage, RenderedPage
from .config import (BUNDLED_EMBEDDING_MODEL, BUNDLED_EMBEDDING_MODELS, BUNDLED_GENERATION_MODELS,
                     EngineConfig)
from .errors import (AlreadyExistsError, Cancelled, DocumentError, EnclaveError,
                     KeyUnavailableError, ModelUnavailableError, NotAllowedError, NotFoundError,
                     OlderKeyError, UserError, VaultCorruptError, WrongKeyError)
from .facade.answers import check_inference_server
from .facade.backups import BackupMade, Restored, restore_library
from .facade.conversations import ConversationTurn
from .facade.health import CostReport
from .facade.vault_key import KeyChanged
from .ingest.pipeline import CancelToken
from .models import check_models, import_gguf
from .ops.alerts import Alert
from .ops.apikeys import ApiKey
from .ops.audit import AuditEntry
from .ops.cost import CostRates, DayCost
from .pii import mask as mask_personal_data
from .records import (Collection, Document, Failure, IngestProgress, IngestReport,
                      SearchHit)
from .service import EnclaveService
from .store.backup_plan import BackupPlan, BackupResult
from .store.backups import Manifest
from .store.catalogue import DEFAULT_COLLECTION
from .store.diskspace import DISK_FULL, disk_full
from .store.keys import MIN_PASSPHRASE_LENGTH, is_recovery_key, key_method, keyring_usable
from .store.vault import library_exists
from .store.writer_lock import Holder, LibraryInUseError

__all__ = [
    "EnclaveService", "EngineConfig", "BUNDLED_EMBEDDING_MODEL", "BUNDLED_EMBEDDING_MODELS",
    "BUNDLED_GENERATION_MODELS",
    # records
    "Alert", "Answer", "AnswerStream", "ApiKey", "AuditEntry", "BackupMade", "BackupPlan",
    "BackupResult", "CancelToken", "Chat", "Collection", "ConversationTurn", "CostRates",
    "CostReport", "DayCost", "Document", "Failure", "Holder", "IngestProgress", "IngestReport",
    "KeyChanged",
    "Manifest", "Message", "Passage", "Relevance", "RenderedPage", "Restored", "SearchHit", "Source",
    # errors
    "AlreadyExistsError", "Cancelled", "DocumentError", "EnclaveError", "KeyUnavailableError",
    "LibraryInUseError", "ModelUnavailableError", "NotAllowedError", "NotFoundError",
    "OlderKeyError", "UserError", "VaultCorruptError", "WrongKeyError",
    # before a library is open
    "DEFAULT_COLLECTION", "MIN_PASSPHRASE_LENGTH", "check_inference_server", "check_models",
    "import_gguf",
    "is_recovery_key", "key_method", "keyring_usable", "library_exists", "restore_library",
    # what went wrong around the engine
    "DISK_FULL", "disk_full",
    # content safety
    "mask_personal_data",
]
