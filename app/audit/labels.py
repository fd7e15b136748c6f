"""How each kind of audited action is named on screen. Packages add theirs here."""
from flask_babel import lazy_gettext as _l

AUDIT_ACTIONS = {
    "user.create": _l("added a person"),
    "user.update": _l("changed the details of"),
    "user.roles_change": _l("changed the roles of"),
    "user.deactivate": _l("deactivated"),
    "user.reactivate": _l("reactivated"),
    "user.password_set": _l("set the password of"),
    "user.password_change": _l("changed their own password"),
    "mentorship.start": _l("assigned a mentor to"),
    "mentorship.end": _l("ended the mentorship of"),
    "team.create": _l("created a team"),
    "team.update": _l("changed a team"),
    "roster.import": _l("imported a roster"),
}
