from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth.forms import ConfirmForm
from app.database import db, utcnow
from app.notifications.models import Notification
from app.notifications.services import list_notifications, mark_all_read, mark_read

bp = Blueprint("notifications", __name__, template_folder="templates")


@bp.route("/")
@login_required
def inbox():
    page = db.paginate(list_notifications(current_user.id),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("notifications/inbox.html", page=page, form=ConfirmForm())


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def notification_read(notification_id: int):
    """Mark one notification read and follow its link, if it has one."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    notification = db.session.get(Notification, notification_id)
    if notification is None or not mark_read(current_user.id, notification_id, now=utcnow()):
        abort(404)
    db.session.commit()
    return redirect(notification.link or url_for("notifications.inbox"))


@bp.route("/read-all", methods=["POST"])
@login_required
def inbox_read_all():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mark_all_read(current_user.id, now=utcnow())
    db.session.commit()
    return redirect(request.referrer if request.referrer and request.referrer.startswith(
        request.host_url) else url_for("notifications.inbox"))
