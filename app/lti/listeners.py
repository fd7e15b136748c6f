"""What the LMS plug-in does with learning events: scores for the gradebooks of the courses
the person launched from, said truthfully (pending while a person still grades or signs off),
and xAPI statements for the learning record store when one is configured."""
from __future__ import annotations

from flask import current_app

from app.centre.events import learning_event
from app.database import utcnow
from app.lti import services

# kind → (activityProgress, gradingProgress)
_PROGRESS = {
    "passed": ("Completed", "FullyGraded"),
    "failed": ("Completed", "FullyGraded"),
    "scored": ("Completed", "FullyGraded"),
    "signed_off": ("Completed", "FullyGraded"),
}


def on_learning_event(sender, **data) -> None:
    kind = data.get("kind")
    now = data.get("at") or utcnow()
    resource = f"{data.get('object_type')}:{data.get('object_id')}"
    if data.get("progress_only"):   # a stage done, more to come
        services.queue_score(data["user_id"], resource, score=None, activity="InProgress",
                             grading="Pending", now=now)
    elif kind in _PROGRESS:
        activity, grading = _PROGRESS[kind]
        services.queue_score(data["user_id"], resource, score=data.get("score"),
                             activity=activity, grading=grading, now=now)
    elif kind in ("completed", "attempted") and data.get("pending"):
        services.queue_score(data["user_id"], resource, score=None, activity="Submitted",
                             grading="PendingManual", now=now)
    if current_app.config.get("LRS_URL"):
        from app.lti import xapi
        event = {k: v for k, v in data.items() if k != "kind"}
        xapi.on_learning_event(kind, **event)   # xapi's receiver takes the kind as sender


def connect() -> None:
    """Listen to learning events (connecting twice keeps one receiver)."""
    learning_event.connect(on_learning_event, weak=False)
