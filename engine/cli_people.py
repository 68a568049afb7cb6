"""`casetrail user set-cert`, `user set-agency` and `casetrail user eligible`: the 执法证 of a user's profile, and who may be chosen
for a role (issue 15: people are chosen, not typed; the same list the pages' pickers offer)."""

from __future__ import annotations

import datetime as dt

import click

from engine.cli_support import current_clock, emit, handle_errors, services
from engine.values import SetUserAgency, SetUserCertificate

ISO_DAY = click.DateTime(formats=["%Y-%m-%d"])


def day_or_none(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def add_people_commands(group: click.Group) -> None:
    """`user set-cert` and `user eligible` on the `user` group."""

    @group.command("set-cert")
    @click.argument("user_id")
    @click.option("--cert-no", default=None, help="执法证号 (empty: the user holds none)")
    @click.option("--cert-valid-until", type=ISO_DAY, default=None, help="the last day it is valid, YYYY-MM-DD")
    @click.option("--by", default=None, help="the administrator (journalled; default: the server's command line)")
    @click.option("--reason", default="", help="why (journalled)")
    @click.option("--json", "as_json", is_flag=True)
    @handle_errors
    def user_set_cert(user_id: str, cert_no: str | None, cert_valid_until: dt.datetime | None, by: str | None,
                      reason: str, as_json: bool) -> None:
        """Record (or clear) a user's 执法证号 and its validity: only a certified officer may be chosen as one
        (行政处罚法 第四十二条)."""
        from engine.usecases.people import set_user_certificate

        view = set_user_certificate(SetUserCertificate(user_id=user_id, cert_no=cert_no,
                                                       valid_until=day_or_none(cert_valid_until), by=by, reason=reason),
                                    svc=services(), clock=current_clock())
        until = view.cert_valid_until.isoformat() if view.cert_valid_until else "—"
        emit(view.to_json(), as_json, lambda: click.echo(f"{view.id} {view.name}: 执法证号 {view.cert_no or '—'} "
                                                         f"valid until {until}"))

    @group.command("set-agency")
    @click.argument("user_id")
    @click.option("--agency", "agency_code", required=True, help="the code of the agency the person moves to")
    @click.option("--by", default=None, help="the administrator (journalled; default: the server's command line)")
    @click.option("--reason", default="", help="why (journalled; required with --by)")
    @click.option("--json", "as_json", is_flag=True)
    @handle_errors
    def user_set_agency(user_id: str, agency_code: str, by: str | None, reason: str, as_json: bool) -> None:
        """Move a person to another agency (a transfer of post); what they already hold stays as it is."""
        from engine.usecases.agencies import set_user_agency

        view = set_user_agency(SetUserAgency(user_id=user_id, agency_code=agency_code, by=by, reason=reason),
                               svc=services(), clock=current_clock())
        emit(view.to_json(), as_json, lambda: click.echo(f"{view.id} {view.name}: agency {view.agency_code}"))

    @group.command("eligible")
    @click.option("--role", required=True, help="intake officer panel legal head publisher")
    @click.option("--on", "on", type=ISO_DAY, default=None, help="the day (default: today in the agency's zone)")
    @click.option("--case", "case_ref", default=None,
                  help="for this case (number or id): its agency's people, less those barred from it (回避)")
    @click.option("--agency", "agency_code", default=None,
                  help="of this agency (default: --user's agency, else the platform's home agency)")
    @click.option("--user", "user_id", default=None,
                  help="asked as this user: the case must be one they may see, the agency one they may read")
    @click.option("--json", "as_json", is_flag=True)
    @handle_errors
    def user_eligible(role: str, on: dt.datetime | None, case_ref: str | None, agency_code: str | None,
                      user_id: str | None, as_json: bool) -> None:
        """Who may be chosen for a role on a day, as a page's picker offers them: active, holding it, with a valid
        执法证 where the role needs one, of the case's (or the agency's) people — of any agency for a 合议 member,
        who may be invited from another."""
        from engine.usecases.people import eligible_people

        svc = services()
        day = day_or_none(on) or current_clock()().astimezone(svc.settings.zone).date()
        people = eligible_people(svc, role=role, on=day, case_ref=case_ref, agency=agency_code, viewer_id=user_id)
        rows = [{"id": p.id, "name": p.name, "unit": p.unit, "agency": p.agency, "cert_no": p.cert_no,
                 "cert_valid_until": p.cert_valid_until.isoformat() if p.cert_valid_until else None} for p in people]
        emit(rows, as_json, lambda: [click.echo(f"{p.id:12} {p.agency:8} {p.label()}") for p in people])
