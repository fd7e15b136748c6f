from sqlalchemy import select

from app.auth.models import User
from app.auth.services import authenticate


def test_create_admin_from_the_command_line(runner, db):
    result = runner.invoke(args=["users", "create-admin", "--employee-number", "a900",
                                 "--name", "管理员", "--password", "admin-pass-1"])
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(User).where(User.employee_number == "A900"))
    assert admin.has_role("admin") and authenticate("A900", "admin-pass-1") == admin


def test_create_admin_refuses_a_weak_password_and_writes_nothing(runner, db):
    result = runner.invoke(args=["users", "create-admin", "--employee-number", "a901",
                                 "--name", "X", "--password", "123"])
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output
    assert db.session.scalar(select(User)) is None
