"""How each kind of audited action is named on screen. Packages add theirs here.

`AUDIT_ACTIONS` names the kind (filters, tables); `AUDIT_SENTENCES` tells one event as a whole
sentence with the actor and the person it was about, so each language can order it its own way.
"""
from flask_babel import lazy_gettext as _l

from app.i18n import N_

AUDIT_ACTIONS = {
    "user.create": _l("Person added"),
    "user.update": _l("Details changed"),
    "user.roles_change": _l("Roles changed"),
    "user.deactivate": _l("Left the centre"),
    "user.reactivate": _l("Reactivated"),
    "user.password_set": _l("Password set by an administrator"),
    "user.password_change": _l("Own password changed"),
    "mentorship.start": _l("Mentor assigned"),
    "mentorship.end": _l("Mentorship ended"),
    "team.create": _l("Team created"),
    "team.update": _l("Team changed"),
    "roster.import": _l("Roster imported"),
    "rule.change": _l("Point rule changed"),
    "points.manual_award": _l("Recognition given"),
    "points.reverse": _l("Points reversed"),
}

AUDIT_SENTENCES = {
    "user.create": N_("%(actor)s added %(subject)s."),
    "user.update": N_("%(actor)s changed the details of %(subject)s."),
    "user.roles_change": N_("%(actor)s changed the roles of %(subject)s."),
    "user.deactivate": N_("%(actor)s recorded that %(subject)s left the centre."),
    "user.reactivate": N_("%(actor)s reactivated %(subject)s."),
    "user.password_set": N_("%(actor)s set a new password for %(subject)s."),
    "user.password_change": N_("%(actor)s changed their own password."),
    "mentorship.start": N_("%(actor)s assigned a mentor to the apprentice %(subject)s."),
    "mentorship.end": N_("%(actor)s ended the mentorship of the apprentice %(subject)s."),
    "team.create": N_("%(actor)s created a team."),
    "team.update": N_("%(actor)s changed a team."),
    "roster.import": N_("%(actor)s imported a roster."),
    "rule.change": N_("%(actor)s changed a point rule."),
    "points.manual_award": N_("%(actor)s gave %(subject)s a recognition."),
    "points.reverse": N_("%(actor)s reversed points of %(subject)s."),
}
# An action some package forgot to name here still shows, untranslated.
UNNAMED_ACTION = N_("%(actor)s: %(action)s")
