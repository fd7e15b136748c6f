from datetime import date

import pytest

from app.auth import rules
from app.auth.access import safe_next
from app.auth.roles import Permission, Role, permissions_of, primary_role


def test_employee_numbers_compare_without_blanks_and_case():
    assert rules.normalise_employee_number("  a1024 ") == "A1024"


@pytest.mark.parametrize("value,valid", [("A1024", True), ("00123", True), ("1-2_3", True),
                                         ("", False), ("a b", False), ("工号1", False),
                                         ("-12", False), ("x" * 33, False)])
def test_employee_number_format(value, valid):
    assert rules.is_valid_employee_number(value) is valid


def test_passwords_need_eight_characters_and_not_only_digits():
    assert rules.password_problem("short") is not None
    assert rules.password_problem("12345678") is not None
    assert rules.password_problem("long-enough") is None


def test_monthly_attrition_is_leavers_over_average_headcount():
    assert rules.monthly_attrition(2, 100, 98) == pytest.approx(2 / 99)
    assert rules.monthly_attrition(0, 0, 0) is None


def test_employment_window_includes_the_hire_and_leave_days():
    assert rules.was_employed_on(date(2026, 1, 1), date(2026, 2, 1), date(2026, 2, 1))
    assert not rules.was_employed_on(date(2026, 1, 1), date(2026, 2, 1), date(2026, 2, 2))
    assert not rules.was_employed_on(date(2026, 1, 2), None, date(2026, 1, 1))


def test_roles_add_up_and_admin_may_do_everything():
    assert permissions_of([Role.ADMIN]) == frozenset(Permission)
    agent = permissions_of([Role.AGENT])
    assert Permission.MANAGE_PEOPLE not in agent
    assert Permission.VIEW_APPRENTICES in permissions_of(["agent", "mentor"])
    assert Permission.VIEW_APPRENTICES not in agent


def test_the_home_page_follows_the_most_senior_role():
    assert primary_role(["agent", "mentor"]) == Role.MENTOR
    assert primary_role(["agent", "team_lead", "mentor"]) == Role.TEAM_LEAD
    assert primary_role(["qa_analyst", "admin"]) == Role.ADMIN
    assert primary_role([]) is None


@pytest.mark.parametrize("target,expected", [
    ("/inbox/", "/inbox/"), ("/people/3?x=1", "/people/3?x=1"), (None, None), ("", None),
    ("//evil.example", None), ("https://evil.example/", None), ("/\\evil.example", None),
    ("javascript:alert(1)", None), ("inbox", None),
])
def test_redirect_targets_stay_on_the_site(target, expected):
    assert safe_next(target) == expected
