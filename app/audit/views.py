from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from app.audit.labels import AUDIT_ACTIONS, AUDIT_SENTENCES, UNNAMED_ACTION
from app.audit.services import list_audit_events
from app.auth.access import permission_required
from app.auth.roles import Permission
from app.database import db

bp = Blueprint("audit", __name__, template_folder="templates")


@bp.record_once
def _template_globals(state):
    state.app.jinja_env.globals.update(AUDIT_ACTIONS=AUDIT_ACTIONS,
                                       AUDIT_SENTENCES=AUDIT_SENTENCES,
                                       UNNAMED_ACTION=UNNAMED_ACTION)


@bp.route("/")
@permission_required(Permission.VIEW_AUDIT)
def event_list():
    action = request.args.get("action", "").strip() or None
    subject_id = request.args.get("subject", type=int)
    page = db.paginate(list_audit_events(action=action, subject_id=subject_id),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("audit/event_list.html", page=page, action=action or "",
                           subject_id=subject_id)
