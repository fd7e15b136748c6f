from __future__ import annotations

from flask import Blueprint, render_template

from app.auth.access import permission_required
from app.auth.roles import Permission

bp = Blueprint("training", __name__, template_folder="templates")


@bp.route("/")
@permission_required(Permission.USE_TRAINING)
def index():
    return render_template("training/index.html")
