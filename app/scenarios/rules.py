"""The training room's pure decisions: the service standard's rule codes, the scoring of the
case analysis, the walk through a role-play. No Flask and no database here."""
from __future__ import annotations

from dataclasses import dataclass

from app.i18n import N_

STAGES = (1, 2, 3)
STAGE_KEYS = {1: "case_analysis", 2: "reverse_experience", 3: "positive_practice"}
STAGE_NAMES = {1: N_("Case analysis"), 2: N_("Reverse experience"),
               3: N_("Positive practice")}

CATEGORIES = {
    "personal_safety": N_("Personal safety"),
    "property_loss": N_("Property loss"),
    "information_security": N_("Information security"),
    "attitude": N_("Service attitude"),
    "shirking": N_("Shirking responsibility"),
    "wrong_information": N_("Wrong information"),
    "broken_promise": N_("Broken promise"),
}

# The rules of the service standard (domain.md section 6) a case's error key names.
SOP_RULES = {
    "answer_promptly": N_("Answer within three rings"),
    "greeting": N_("Greeting, company name and employee number"),
    "courtesy": N_("Courtesy words"),
    "no_forbidden": N_("No forbidden phrases"),
    "no_shirking": N_("Own the problem; never shirk or brush off"),
    "wait_apology": N_("Apologise and explain a wait over 3 minutes"),
    "angry_customer": N_("Angry customer: calm, listen, empathise, apologise, solve, follow up"),
    "verify_identity": N_("Verify identity before disclosing account details"),
    "protect_privacy": N_("Protect customer data"),
    "accurate_information": N_("Give correct, checked information"),
    "record_follow_up": N_("Record the ticket fully and follow it up"),
    "keep_promise": N_("Keep what was promised"),
    "safety_first": N_("Danger to life or health is an emergency: escalate at once"),
    "close": N_("Close: anything else, thanks, goodbye"),
}

SPEAKERS = {"customer": N_("Customer"), "agent": N_("Agent"), "narrator": N_("Narrator"),
            "supervisor": N_("Supervisor"), "system": N_("System")}

DEFAULT_POINTS = {"stage": 15, "sign_off": 20}
DEFAULT_CASE_PASS_MARK = 60
DEFAULT_PRACTICE_PASS_MARK = 80
MIN_NODES = 8

# The mentor's rubric at sign-off: each criterion scored 1–5.
RUBRIC = {
    "opening": N_("Opening and identification"),
    "empathy": N_("Empathy and tone"),
    "standard": N_("Follows the service standard"),
    "resolution": N_("Solution and follow-up"),
}
RUBRIC_MIN, RUBRIC_MAX = 1, 5


@dataclass(frozen=True)
class CaseScore:
    """Stage 1: the marked lines against the error key. A marked line is a hit when it is in
    the key and the rule picked is one the key accepts; a key line marked with a wrong rule
    counts as missed, and the marking as a false alarm."""

    hits: tuple[str, ...]
    wrong_rule: tuple[str, ...]       # right line, wrong rule
    false_alarms: tuple[str, ...]     # marked, not in the key
    missed: tuple[str, ...]           # in the key, not found
    precision: float
    recall: float
    score: int                        # 0–100: the F1 of precision and recall


def score_case(marked: dict[str, str], key: dict[str, list[str]]) -> CaseScore:
    """`marked`: line id → rule code the learner picked; `key`: line id → accepted rules."""
    hits = tuple(sorted(line for line, rule in marked.items()
                        if line in key and rule in key[line]))
    wrong_rule = tuple(sorted(line for line, rule in marked.items()
                              if line in key and rule not in key[line]))
    false_alarms = tuple(sorted(line for line in marked if line not in key))
    missed = tuple(sorted(line for line in key if line not in hits))
    precision = len(hits) / len(marked) if marked else 0.0
    recall = len(hits) / len(key) if key else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return CaseScore(hits, wrong_rule, false_alarms, missed, round(precision, 3),
                     round(recall, 3), round(100 * f1))


def practice_score(steps: list[dict]) -> int:
    """Stage 3: the share of steps (choices and typed replies) done right the first time."""
    if not steps:
        return 0
    first_time = sum(1 for step in steps if step.get("tries", 1) == 1)
    return round(100 * first_time / len(steps))


def overdue(due_on, today) -> bool:
    return due_on is not None and due_on < today
