"""Pure decisions about people: identifiers, passwords, attrition. No Flask, no database."""
from __future__ import annotations

import re
from datetime import date

EMPLOYEE_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
MIN_PASSWORD_LENGTH = 8


def normalise_employee_number(value: str) -> str:
    """Employee numbers (工号) compare without surrounding blanks and case: "a1024 " is "A1024"."""
    return (value or "").strip().upper()


def is_valid_employee_number(value: str) -> bool:
    return bool(EMPLOYEE_NUMBER_RE.match(value or ""))


def normalise_email(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value or None


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None. The reason is an English msgid."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return "The password must be at least 8 characters long."
    if password.isdigit():
        return "The password must not be digits only."
    return None


def was_employed_on(hire_date: date, leave_date: date | None, day: date) -> bool:
    return hire_date <= day and (leave_date is None or leave_date >= day)


def monthly_attrition(leavers: int, headcount_start: int, headcount_end: int) -> float | None:
    """Leavers in the month / average headcount (domain.md §2), as a fraction; None if no staff."""
    average = (headcount_start + headcount_end) / 2
    if average <= 0:
        return None
    return leavers / average
