"""Re-enactment recordings: what may be uploaded (audio or video, by its bytes, not only its
name), how large, and where it is kept."""
from __future__ import annotations

import secrets
from pathlib import Path

import filetype
from flask import current_app

from app.errors import DomainError
from app.i18n import N_

# extension → the family the file's bytes must show
ALLOWED = {
    ".mp4": "video", ".m4v": "video", ".mov": "video", ".webm": "video", ".mkv": "video",
    ".mp3": "audio", ".m4a": "audio", ".wav": "audio", ".ogg": "audio", ".aac": "audio",
    ".amr": "audio",
}
# what the sniffed media types may be for each family (webm and mkv are sniffed as video;
# an audio-only webm recorded in the browser is accepted as a recording too)
_FAMILY_TYPES = {"video": ("video/",), "audio": ("audio/", "video/mp4", "video/webm")}


class UploadError(DomainError):
    pass


def upload_dir() -> Path:
    path = Path(current_app.config["SCENARIO_UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_bytes() -> int:
    return int(current_app.config["SCENARIO_RECORDING_MAX_MB"]) * 1024 * 1024


def check_recording(filename: str, head: bytes, size: int) -> str:
    """The media type of a recording, or an `UploadError` saying why it is refused."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in ALLOWED:
        raise UploadError(N_("Upload a video or audio recording (%(types)s)."),
                          types=", ".join(sorted(ALLOWED)))
    if size == 0:
        raise UploadError(N_("The file is empty."))
    if size > max_bytes():
        raise UploadError(N_("The recording is %(size)s MB; the most is %(max)s MB."),
                          size=round(size / 1024 / 1024, 1),
                          max=current_app.config["SCENARIO_RECORDING_MAX_MB"])
    kind = filetype.guess(head)
    family = ALLOWED[suffix]
    if kind is None or not kind.mime.startswith(_FAMILY_TYPES[family]):
        message = (N_("The file is named %(name)s but is not a video recording.")
                   if family == "video" else
                   N_("The file is named %(name)s but is not an audio recording."))
        raise UploadError(message, name=Path(filename).name[:80])
    return kind.mime


def store_recording(stream, filename: str) -> tuple[str, str, int]:
    """Check and keep an uploaded recording; return (stored name, media type, size)."""
    head = stream.read(8192)
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    media_type = check_recording(filename, head, size)
    stored = f"{secrets.token_hex(16)}{Path(filename).suffix.lower()}"
    with open(upload_dir() / stored, "wb") as out:
        while chunk := stream.read(1024 * 1024):
            out.write(chunk)
    return stored, media_type, size
