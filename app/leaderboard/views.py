"""The leaderboards: individual, cohort, team and per blade, for any month; month close."""
from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from app.auth.access import permission_required
from app.auth.forms import ConfirmForm
from app.auth.roles import Permission
from app.centre.periods import PeriodError, centre_tz, parse_period
from app.database import db, utcnow
from app.extensions import cache
from app.incentives.queries import BLADE_LABELS
from app.incentives.rules import Blade
from app.leaderboard import exports, queries, rules, wallboard
from app.leaderboard.forms import WallboardForm
from app.leaderboard.services import MonthError, close_month, current_period, month_status
from app.notifications.queries import unread_count

bp = Blueprint("leaderboard", __name__, template_folder="templates")

MONTH_STATUS = {
    "open": _l("Open"),
    "grace": _l("Grace period: late results still count"),
    "ready": _l("Ready to close"),
    "closed": _l("Closed"),
}


def team_options(teams: list[tuple[int, str]], shown: int | None) -> Markup:
    """The filter's option of each team (every team of the centre: hundreds), the shown one
    selected; written in one go rather than by a template loop."""
    return Markup("".join(
        f'<option value="{team_id}"{" selected" if team_id == shown else ""}>'
        f'{escape(name)}</option>' for team_id, name in teams))


@bp.record_once
def _template_globals(state):
    state.app.jinja_env.globals["MONTH_STATUS"] = MONTH_STATUS
    state.app.jinja_env.globals["team_options"] = team_options


def _month() -> str:
    asked = request.args.get("month")
    if not asked:
        return current_period(utcnow())
    try:
        parse_period(asked)
    except PeriodError:
        abort(400)
    return asked


def _spec(period: str) -> queries.BoardSpec:
    kind = request.args.get("board", "individual")
    blade = request.args.get("blade", "all")
    if kind not in queries.BOARD_KINDS or blade not in ["all"] + [b.value for b in Blade]:
        abort(400)
    scope = "centre"
    if kind == "individual" and request.args.get("team", type=int):
        scope = f"team-{request.args.get('team', type=int)}"
    elif kind == "cohort":
        cohorts = queries.cohorts_in(period)
        scope = request.args.get("cohort") or (
            current_user.cohort if current_user.cohort in cohorts else (cohorts or [""])[0])
        if scope and scope not in cohorts:
            abort(400)
    return queries.BoardSpec(kind, scope, blade)


def _pseudonymise() -> bool:
    """Whether the viewer sees other agents under a pseudonym: agents do when the centre
    wants it; managers always see names."""
    return current_app.config["LEADERBOARD_PSEUDONYMISE"] and not (
        current_user.can(Permission.VIEW_TEAM) or current_user.can(Permission.VIEW_ALL_AGENTS))


def _names(spec: queries.BoardSpec, keys: list[int]) -> dict[int, dict]:
    """What each row of these keys displays to the viewer."""
    return queries.board_names(spec, keys, viewer_id=current_user.id,
                               pseudonymise=_pseudonymise(),
                               salt=current_app.config["SECRET_KEY"], locale=str(get_locale()))


def _board_rows(spec: queries.BoardSpec, board: rules.Board) -> list[dict]:
    """Every row of a board as plain values (exports and JSON)."""
    names = _names(spec, board.keys)
    return [{"position": r.position, "rank": r.rank, "tied": r.tied,
             "name": names.get(r.key, {}).get("name", ""),
             "team": names.get(r.key, {}).get("team"), "points": r.points} for r in board]


def _requested_board():
    """The board the request asks for, the viewer's key on it (their id, or their team's on
    the team board) and their row, if they have one."""
    period = _month()
    spec = _spec(period)
    board = queries.get_board(period, spec) if spec.scope else rules.Board.from_rows([])
    me = current_user.id if spec.kind != "team" else current_user.team_id
    return period, spec, board, me, board.row_of(me)


# how long a rendered page is kept: as long as what it shows of other people
PAGE_SECONDS = queries.PEOPLE_SECONDS


def _page_key(period: str, spec: queries.BoardSpec, status: str, locale: str) -> str | None:
    """The cache key of the whole board page as this viewer sees it now, or None when the
    page must not come from the cache (a message waits to be shown once).

    It holds everything the page shows that may change: the points version (a new award
    changes it), the month's status, the viewer (who they are, their name, team, cohort and
    roles: the menu, their row and whether names are hidden), the language, the inbox's
    unread count, the whole address (the filters and the language form's way back) and the
    session's CSRF token (the page's forms carry it, signed). Other people's names, teams and
    levels may take `PAGE_SECONDS` to show, as in the page's fragments."""
    if "_flashes" in session:
        return None
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field not in session:
        generate_csrf()    # the session's token, made now as the page would make it
    token = session[field]
    user = current_user
    parts = (request.full_path, period, spec.key, status, queries.points_version(), locale,
             _pseudonymise(), unread_count(user.id), user.id, user.name, user.team_id,
             user.hire_date.isoformat(), sorted(role.value for role in user.roles), token)
    return "leaderboard-page/" + hashlib.sha256(repr(parts).encode()).hexdigest()


@bp.route("/")
@permission_required(Permission.VIEW_LEADERBOARD)
def index():
    period = _month()
    spec = _spec(period)
    locale = str(get_locale())
    today = utcnow().astimezone(centre_tz()).date()
    status = month_status(period, today)
    key = _page_key(period, spec, status, locale)
    html = cache.get(key) if key else None
    if html is not None:
        return html
    page = queries.BoardPage(period, spec, viewer_id=current_user.id,
                             viewer_team_id=current_user.team_id, pseudonymise=_pseudonymise(),
                             salt=current_app.config["SECRET_KEY"], locale=locale,
                             closed=status == "closed")
    html = render_template(
        "leaderboard/index.html", period=period, spec=spec, page=page, locale=locale,
        status=status, fragment_seconds=queries.PEOPLE_SECONDS,
        teams=queries.list_teams,
        team_shown=int(spec.scope[5:]) if spec.scope.startswith("team-") else None,
        cohorts=queries.cohorts_in(period) if spec.kind == "cohort" else [],
        blades=BLADE_LABELS, close_form=ConfirmForm()
        if current_user.can(Permission.MANAGE_INCENTIVES) else None)
    if key:
        cache.set(key, html, timeout=PAGE_SECONDS)
    return html


@bp.route("/close/<period>", methods=["POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def month_close(period: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        count = close_month(period, actor_id=current_user.id, now=utcnow())
    except MonthError as error:
        db.session.rollback()
        flash(error.translated(), "error")
    else:
        db.session.commit()
        flash(_("%(period)s is closed: %(count)s boards are stored as they stand.",
                period=period, count=count), "success")
    return redirect(url_for("leaderboard.index", month=period))


@bp.route("/board.json")
@permission_required(Permission.VIEW_LEADERBOARD)
def board_json():
    """The board of the page's parameters, for the LMS and other screens."""
    period, spec, board, me, mine = _requested_board()
    return jsonify({
        "period": period, "board": spec.kind, "scope": spec.scope, "blade": spec.blade,
        "closed": queries.is_closed(period), "rows": _board_rows(spec, board),
        "me": {"position": mine.position, "points": mine.points,
               "gap": rules.gap_to_next(board, me)} if mine else None,
    })


@bp.route("/export.<fmt>")
@permission_required(Permission.VIEW_LEADERBOARD)
def board_export(fmt: str):
    """The whole board as CSV or XLSX, cells escaped against formula injection."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    period, spec, board, _me, _mine = _requested_board()
    header = [_("Place"), _("Rank"), _("Name"), _("Team"), _("Points")]
    rows = [[r["position"], r["rank"], r["name"], r["team"] or "", r["points"]]
            for r in _board_rows(spec, board)]
    name = f"leaderboard-{period}-{spec.kind}-{spec.scope}-{spec.blade}"
    if fmt == "csv":
        return Response(exports.to_csv(header, rows), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(exports.to_xlsx(period, header, rows), headers={
        "Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- the wallboard -------------------------------------------------------------------------

@bp.route("/wallboards", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PEOPLE)
def wallboard_list():
    form = WallboardForm()
    link = None
    if form.validate_on_submit():
        try:
            _token, secret = wallboard.create_token(form.label.data, actor_id=current_user.id,
                                                    now=utcnow())
        except wallboard.WallboardError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            link = url_for("leaderboard.wall_show", secret=secret, _external=True)
    return render_template("leaderboard/wallboard_list.html", form=form, link=link,
                           tokens=wallboard.list_tokens(), revoke_form=ConfirmForm())


@bp.route("/wallboards/<int:token_id>/revoke", methods=["POST"])
@permission_required(Permission.MANAGE_PEOPLE)
def wallboard_revoke(token_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        wallboard.revoke_token(token_id, actor_id=current_user.id, now=utcnow())
    except wallboard.WallboardError:
        abort(404)
    db.session.commit()
    flash(_("The link is revoked: the screen that uses it shows nothing any more."), "success")
    return redirect(url_for("leaderboard.wallboard_list"))


def _wall_data(secret: str) -> dict:
    if wallboard.valid_token(secret) is None:
        abort(404)
    period = current_period(utcnow())
    board = queries.get_board(period, queries.BoardSpec("team"))
    teams = dict(queries.list_teams())
    return {
        "period": period,
        "teams": [{"place": r.rank, "name": teams.get(r.key, ""), "points": r.points}
                  for r in board],
        "honours": queries.wall_honours(
            pseudonymise=current_app.config["LEADERBOARD_PSEUDONYMISE"],
            salt=current_app.config["SECRET_KEY"], locale=str(get_locale())),
    }


@bp.route("/wall/<secret>")
def wall_show(secret: str):
    """The floor's TV: the team board and the latest honours, large, refreshing itself. No
    sign-in: the link's secret is the key, and it shows nothing else."""
    refresh = min(max(request.args.get("refresh", 30, type=int), 2), 600)
    return render_template("leaderboard/wall.html", secret=secret, refresh=refresh,
                           **_wall_data(secret))


@bp.route("/wall/<secret>.json")
def wall_json(secret: str):
    return jsonify(_wall_data(secret))
