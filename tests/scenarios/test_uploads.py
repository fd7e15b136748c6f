"""The re-enactment upload: type by name and by bytes, size, and where it is kept."""
from __future__ import annotations

import io

import pytest

from app.scenarios import services, uploads
from app.scenarios.uploads import UploadError
from tests.scenarios.conftest import MP3, MP4, key_marks, upload, walk_reverse


@pytest.fixture()
def at_upload(db, library, pair, now):
    apprentice = pair["apprentice"]
    progress = services.start_scenario(apprentice.id, "S06", now=now)
    services.submit_case(progress.id, key_marks(progress.version.content),
                         actor_id=apprentice.id, now=now)
    walk_reverse(progress, apprentice.id, now)
    return progress, apprentice


def _message(error: UploadError) -> str:
    return error.message % error.params


def test_a_video_and_an_audio_recording_are_accepted(app, recordings_dir):
    assert uploads.check_recording("me.mp4", MP4[:8192], len(MP4)) == "video/mp4"
    assert uploads.check_recording("me.MP3", MP3[:8192], len(MP3)) == "audio/mpeg"


@pytest.mark.parametrize("name, data, expected", [
    ("notes.txt", b"hello", "Upload a video or audio recording"),
    ("me.exe", b"MZ" + b"\x00" * 100, "Upload a video or audio recording"),
    ("no-extension", MP4, "Upload a video or audio recording"),
    ("fake.mp4", b"I am only text pretending to be a video" * 10, "is not a video recording"),
    ("fake.mp4", b"%PDF-1.7\n" + b"\x00" * 200, "is not a video recording"),
    ("voice.wav", b"GIF89a" + b"\x00" * 200, "is not an audio recording"),
    ("empty.mp4", b"", "The file is empty"),
])
def test_wrong_types_are_refused_clearly(app, recordings_dir, name, data, expected):
    with pytest.raises(UploadError) as refused:
        uploads.check_recording(name, data[:8192], len(data))
    assert expected in _message(refused.value)


def test_too_large_is_refused_with_the_limit(app, recordings_dir, monkeypatch):
    monkeypatch.setitem(app.config, "SCENARIO_RECORDING_MAX_MB", 1)
    big = MP4 + b"\x00" * (2 * 1024 * 1024)
    with pytest.raises(UploadError) as refused:
        uploads.check_recording("big.mp4", big[:8192], len(big))
    assert _message(refused.value) == "The recording is 2.0 MB; the most is 1 MB."


def test_a_refused_upload_keeps_nothing_and_the_stage_stays_open(at_upload, now,
                                                                 recordings_dir):
    progress, apprentice = at_upload
    with pytest.raises(UploadError):
        services.submit_recording(progress.id, io.BytesIO(b"text" * 100), "fake.mp4",
                                  "A reflection long enough to be accepted by the check.",
                                  actor_id=apprentice.id, now=now)
    assert progress.stage == 2
    assert not recordings_dir.exists() or not any(recordings_dir.iterdir())


def test_an_accepted_recording_is_stored_under_a_random_name(at_upload, now, recordings_dir):
    progress, apprentice = at_upload
    recording = upload(progress, apprentice.id, now, data=MP3, name="../../etc/passwd.mp3")
    stored = recordings_dir / recording.stored_name
    assert stored.read_bytes() == MP3 and stored.parent == recordings_dir
    assert recording.stored_name.endswith(".mp3") and "/" not in recording.stored_name
    assert recording.size_bytes == len(MP3) and recording.media_type == "audio/mpeg"
