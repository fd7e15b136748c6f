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
    "month.close": _l("Month closed"),
    "wallboard.create": _l("Wallboard link created"),
    "wallboard.revoke": _l("Wallboard link revoked"),
    "points.manual_award": _l("Recognition given"),
    "points.reverse": _l("Points reversed"),
    "reward.create": _l("Reward added to the catalogue"),
    "reward.update": _l("Reward changed"),
    "redemption.approve": _l("Reward redemption approved"),
    "redemption.reject": _l("Reward redemption rejected"),
    "redemption.fulfil": _l("Reward handed over"),
    "violation.record": _l("Violation recorded"),
    "coaching_task.complete": _l("Coaching task done"),
    "badge_class.create": _l("Badge created"),
    "badge_class.update": _l("Badge changed"),
    "badge.grant": _l("Badge granted"),
    "badge.revoke": _l("Badge withdrawn"),
    "level.create": _l("Level added"),
    "level.update": _l("Level changed"),
    "level.delete": _l("Level removed"),
    "service_star.propose": _l("Service Stars proposed"),
    "service_star.confirm": _l("Service Star confirmed"),
    "service_star.decline": _l("Service Star nomination declined"),
    "service_model.propose": _l("Service Models proposed"),
    "service_model.confirm": _l("Service Model confirmed"),
    "service_model.decline": _l("Service Model nomination declined"),
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
    "month.close": N_("%(actor)s closed a month of the leaderboards."),
    "wallboard.create": N_("%(actor)s created a wallboard link."),
    "wallboard.revoke": N_("%(actor)s revoked a wallboard link."),
    "points.manual_award": N_("%(actor)s gave %(subject)s a recognition."),
    "points.reverse": N_("%(actor)s reversed points of %(subject)s."),
    "reward.create": N_("%(actor)s added a reward to the catalogue."),
    "reward.update": N_("%(actor)s changed a reward in the catalogue."),
    "redemption.approve": N_("%(actor)s approved a reward redemption of %(subject)s."),
    "redemption.reject": N_("%(actor)s rejected a reward redemption of %(subject)s and "
                            "refunded the points."),
    "redemption.fulfil": N_("%(actor)s handed over a redeemed reward to %(subject)s."),
    "violation.record": N_("%(actor)s recorded a violation of the service standard by "
                           "%(subject)s."),
    "coaching_task.complete": N_("%(actor)s completed a coaching task for %(subject)s."),
    "badge_class.create": N_("%(actor)s created a badge."),
    "badge_class.update": N_("%(actor)s changed a badge."),
    "badge.grant": N_("%(actor)s granted a badge to %(subject)s."),
    "badge.revoke": N_("%(actor)s withdrew a badge of %(subject)s and reversed its points."),
    "level.create": N_("%(actor)s added a level to the ladder."),
    "level.update": N_("%(actor)s changed a level of the ladder."),
    "level.delete": N_("%(actor)s removed a level from the ladder."),
    "service_star.propose": N_("%(actor)s proposed the Service Stars of a month."),
    "service_star.confirm": N_("%(actor)s confirmed %(subject)s as Service Star of the month."),
    "service_star.decline": N_("%(actor)s declined the Service Star nomination of %(subject)s."),
    "service_model.propose": N_("%(actor)s proposed the Service Models of a year."),
    "service_model.confirm": N_("%(actor)s confirmed %(subject)s as Service Model of the year."),
    "service_model.decline": N_("%(actor)s declined the Service Model nomination of "
                                "%(subject)s."),
}
# An action some package forgot to name here still shows, untranslated.
UNNAMED_ACTION = N_("%(actor)s: %(action)s")
