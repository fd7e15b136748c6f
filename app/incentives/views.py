from __future__ import annotations

from flask import Blueprint, render_template

from app.auth.access import permission_required
from app.auth.roles import Permission
from app.incentives import services  # noqa: F401  (the models, for create_all)

bp = Blueprint("incentives", __name__, template_folder="templates")


@bp.route("/")
@permission_required(Permission.USE_INCENTIVES)
def index():
    return render_template("incentives/index.html")
