"""Locate the DWPose ONNX weight files, downloading them from the Hugging Face Hub when needed."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import huggingface_hub
from huggingface_hub import constants as hf_constants

from .errors import WeightsError

__all__ = [
    "HF_REPO_ID",
    "DET_FILENAME",
    "POSE_FILENAME",
    "DET_KIND",
    "POSE_KIND",
    "CKPTS_DIR",
    "WeightsError",
    "find_weights",
    "resolve_weights",
    "check_weights_file",
    "unreadable_weights",
]

HF_REPO_ID = "yzd-v/DWPose"
DET_FILENAME = "yolox_l.onnx"
POSE_FILENAME = "dw-ll_ucoco_384.onnx"
CKPTS_DIR = Path(__file__).resolve().parent.parent / "ckpts"  # annotator/ckpts

DET_KIND = ("a person detector in ONNX format (YOLOX with raw [1, A, 85] output, RTMDet with dets/labels, or "
            "ultralytics YOLO: [1, 84, A] or end-to-end [1, N, 6])")
POSE_KIND = ("a pose model in ONNX format (RTMPose/DWPose SimCC: outputs simcc_x, simcc_y; or a ViTPose heatmap "
             "model: one output [N, K, H/4, W/4])")
_WHAT = {DET_FILENAME: DET_KIND, POSE_FILENAME: POSE_KIND}
_TRUTHY = {"1", "true", "yes", "on"}
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def check_weights_file(path: Path, what: str, fix: str = "Delete it and download it again.") -> None:
    """Cheap sanity check of an ONNX file: it exists, is not empty and starts like a ModelProto.
    `fix`: the advice for a file that fails (a path the user typed gets other advice than a download)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(
            f"Weight file {path} not found; expected {what}. "
            f"Download it from https://huggingface.co/{HF_REPO_ID} or fix the path."
        )
    with open(path, "rb") as f:
        head = f.read(32)
    if not head:
        raise WeightsError(f"Weight file {path} is empty; expected {what}. {fix}")
    # A serialized ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
    if head[0] != 0x08:
        hint = ""
        if head.startswith(b"version https://git-lfs"):
            hint = "It is a Git LFS pointer, not the model itself. "
        raise WeightsError(
            f"Weight file {path} does not look like an ONNX model (starts with {head[:16]!r}); "
            f"expected {what}. {hint}{fix}"
        )


def unreadable_weights(path, what: str, err: BaseException) -> WeightsError:
    """The error for a weight file that passed the cheap check but that the runtime cannot load."""
    return WeightsError(
        f"{os.fspath(path)}: the runtime cannot load it as {what} ({_first_line(err)}). "
        "The file is probably truncated or corrupt: delete it and download it again."
    )


def resolve_weights(value: str | os.PathLike | None, default_filename: str, **lookup) -> Path:
    """The one rule for "a file name or a path?", used by the library, the CLI, ComfyUI and the web UIs.

    - None or "": `default_filename`, looked up as below;
    - a path object, a path to an existing file, or text written as a path (absolute, with a folder
      part, or starting with ~): that file, which must exist;
    - any other text is a file name, looked up by `find_weights` (`lookup`: its keyword arguments) in
      $DWPOSE_CKPTS, the `search_dirs`, annotator/ckpts, the Hugging Face cache, then downloaded.
    """
    lookup.setdefault("what", _WHAT.get(default_filename))  # what the file is for, whatever its name
    if isinstance(value, os.PathLike):
        return find_weights(Path(value).name, value, **lookup)
    text = (value or "").strip()
    if not text:
        return find_weights(default_filename, **lookup)
    expanded = os.path.expanduser(text)
    folder_part = any(sep and sep in text for sep in (os.sep, os.altsep))
    if os.path.isfile(expanded) or os.path.isabs(expanded) or folder_part or text.startswith("~"):
        return find_weights(os.path.basename(expanded), expanded, **lookup)
    return find_weights(text, **lookup)


def find_weights(
    filename: str,
    path: str | os.PathLike | None = None,
    *,
    search_dirs=(),
    repo_id: str = HF_REPO_ID,
    cache_dir=None,
    local_files_only: bool | None = None,
    what: str | None = None,
) -> Path:
    """A local path to `filename`: the explicit `path` if given, else the first of $DWPOSE_CKPTS/<filename>,
    <each of search_dirs>/<filename> (e.g. a host's model folders), annotator/ckpts/<filename>, the Hugging
    Face cache of `repo_id`, then a download from it (checked against the hub's sha256). `what`: what the
    file should be, for messages (default: told from the published file names)."""
    what = what or _WHAT.get(filename, f"the ONNX model {filename}")

    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise WeightsError(
                f"Weight file {explicit} (given explicitly) not found; expected {what}. "
                f"Check the path, or pass no path to use $DWPOSE_CKPTS, {CKPTS_DIR} or the Hugging Face cache."
            )
        check_weights_file(explicit, what, fix="Check the path: it must name the .onnx model file itself.")
        return explicit

    places = []
    env_dir = os.environ.get("DWPOSE_CKPTS")
    if env_dir:
        candidates = [Path(env_dir).expanduser() / filename]
    else:
        places.append("$DWPOSE_CKPTS (not set)")
        candidates = []
    candidates += [Path(folder).expanduser() / filename for folder in search_dirs] + [CKPTS_DIR / filename]
    for candidate in candidates:
        places.append(str(candidate))
        if candidate.is_file():
            check_weights_file(candidate, what)
            return candidate

    # Resolved once so the cached and the freshly downloaded paths look the same.
    cache_dir = Path(cache_dir or hf_constants.HF_HUB_CACHE).expanduser().resolve()
    places.append(f"Hugging Face cache {cache_dir} ({repo_id})")
    cached = huggingface_hub.try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir)
    if isinstance(cached, str):  # may also be None or the _CACHED_NO_EXIST marker
        check_weights_file(Path(cached), what)
        return Path(cached)

    looked = "\n".join(f"  - {place}" for place in places)
    offline_env = os.environ.get("HF_HUB_OFFLINE", "")
    env_offline = offline_env.strip().lower() in _TRUTHY
    if local_files_only is None:
        local_files_only = env_offline
    if local_files_only:
        why = f"HF_HUB_OFFLINE={offline_env}" if env_offline else "local_files_only=True"
        raise WeightsError(
            f"Weight file {filename} ({what}) not found locally and offline mode is on ({why}).\n"
            f"Looked in:\n{looked}\n"
            f"Fix: put {filename} into $DWPOSE_CKPTS or {CKPTS_DIR}, or unset HF_HUB_OFFLINE to download it."
        )

    # A trailing "/" would give "//" in the URL hf_hub_url builds.
    endpoint = (os.environ.get("HF_ENDPOINT") or "").rstrip("/") or None
    try:
        downloaded = Path(
            huggingface_hub.hf_hub_download(
                repo_id,
                filename,
                cache_dir=cache_dir,
                endpoint=endpoint,
                local_files_only=False,
            )
        )
    except Exception as err:  # HTTP errors, connection errors, size consistency OSError, ...
        raise WeightsError(
            f"Could not download {filename} ({what}) from the Hugging Face repo {repo_id} "
            f"at {endpoint or hf_constants.ENDPOINT}.\n"
            f"Looked locally in:\n{looked}\n"
            f"Reason: {_reason(err)}\n"
            f"Fix: check your network connection and HF_ENDPOINT, or download {filename} manually from "
            f"https://huggingface.co/{repo_id} and put it into $DWPOSE_CKPTS or {CKPTS_DIR}."
        ) from err

    _verify_blob_sha256(downloaded, filename, repo_id)
    check_weights_file(downloaded, what)
    return downloaded


def _verify_blob_sha256(pointer: Path, filename: str, repo_id: str) -> None:
    # The hub names the cache blob after the ETag, which is the content's sha256 for LFS files.
    blob = Path(os.path.realpath(pointer))
    expected = blob.name
    if not _SHA256_HEX.fullmatch(expected):
        return  # not an LFS blob (or no symlinks in this cache): nothing to compare against
    digest = hashlib.sha256()
    with open(blob, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    actual = digest.hexdigest()
    if actual != expected:
        blob.unlink(missing_ok=True)
        pointer.unlink(missing_ok=True)
        raise WeightsError(
            f"Checksum mismatch for {filename} downloaded from {repo_id}: expected sha256 {expected}, "
            f"got {actual}. The corrupt copy {blob} was deleted; retry the download."
        )


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else "(no message)"


def _reason(err: BaseException) -> str:
    root = err
    while root.__cause__ is not None:
        root = root.__cause__
    reason = f"{type(err).__name__}: {_first_line(err)}"
    if root is not err:
        reason += f" (caused by {type(root).__name__}: {_first_line(root)})"
    return reason
