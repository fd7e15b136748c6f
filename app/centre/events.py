"""Learning events, told to whoever listens (the LMS plug-in sends them on as xAPI statements
and gradebook scores). Packages send; they do not know who listens, so nothing imports
"upward".

    learning_event.send(kind, user_id=…, object_type=…, object_id=…, object_name=…,
                        score=None, passed=None, completed=None, pending=False, at=…)

`kind` is one of KINDS; `score` is a percent (0–100); `pending` says a person still has to
grade or sign off (an essay, a mentor's sign-off)."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
learning_event = _signals.signal("learning-event")

KINDS = ("launched", "attempted", "answered", "completed", "passed", "failed", "scored",
         "earned", "signed_off")
