"""好差评 and 差评 rectification (DOMAIN §4), with a frozen clock for the deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import to_local
from app.core.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from app.portal.services import TokenHolder
from app.ratings import queries, services
from app.ratings.models import Rating, Rectification, RectificationStatus
from app.tickets import services as tickets
from app.tickets.models import TicketStatus
from tests.helpers import post_form
from tests.portal.conftest import submit, walk

R = RectificationStatus
S = TicketStatus


@pytest.fixture
def rated(cast, frozen_clock):
    """``rated(level)``: a ticket of the unit rated online by its requester."""

    def build(level: int, comment: str = "答复敷衍"):
        ticket = walk(submit(), cast, S.FOLLOW_UP)
        services.rate_online(ticket, TokenHolder(ticket), level, comment)
        db.session.commit()
        return ticket

    return build


def local_day(moment) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("level", [1, 2])
def test_a_bad_rating_opens_a_rectification_due_in_five_working_days(rated, cast, level):
    ticket = rated(level)
    row = services.rectification_of(ticket)
    assert row.status == R.AWAITING_CALLBACK and row.unit_id == cast.unit.id
    # Opened Monday 2026-03-02: the 5th working day after is Monday 03-09, end of day.
    assert (row.due_days, local_day(row.due_at)) == (5, "2026-03-09 23:59")


@pytest.mark.parametrize("level", [3, 4, 5])
def test_a_good_rating_opens_nothing(rated, level):
    ticket = rated(level)
    assert services.rating_of(ticket) is not None
    assert services.rectification_of(ticket) is None


@pytest.mark.parametrize("level", [0, 6, "", "x"])
def test_only_the_five_levels_are_accepted(cast, level):
    ticket = walk(submit(), cast, S.FOLLOW_UP)
    with pytest.raises(ValidationFailed):
        services.rate_online(ticket, TokenHolder(ticket), level)


def test_a_ticket_is_rated_once(rated):
    ticket = rated(5)
    with pytest.raises(Exception):  # noqa: B017 - the ticket is closed: no second rating
        services.rate_online(ticket, TokenHolder(ticket), 1)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Rating.id))) == 1


def test_a_dispatcher_records_the_follow_up_rating_with_its_channel(client, login_as, cast):
    ticket = walk(submit(), cast, S.FOLLOW_UP)
    login_as(cast.dispatcher)
    assert ticket.reference in client.get("/ratings/follow-ups").get_data(as_text=True)
    page = f"/ratings/follow-ups/{ticket.id}"
    assert post_form(client, page, {"channel": "phone"}).status_code == 400  # no level chosen
    response = post_form(client, page, {"level": "2", "channel": "phone", "comment": "没解决"},
                         environ_base={"REMOTE_ADDR": "10.2.2.2"})
    assert response.status_code == 302
    assert _event_ip(ticket, "record_follow_up") == "10.2.2.2"  # passed by the view
    rating = services.rating_of(ticket)
    assert (rating.channel, rating.recorded_by_id, rating.comment) == (
        "phone", cast.dispatcher.id, "没解决")
    assert services.rectification_of(ticket) is not None


def test_the_ticket_page_follow_up_also_opens_the_rectification(cast):
    ticket = walk(submit(), cast, S.FOLLOW_UP)
    tickets.transition(ticket, "record_follow_up", cast.dispatcher, outcome="reached", level=1)
    db.session.commit()
    assert services.rating_of(ticket).channel == "phone"
    assert services.rectification_of(ticket) is not None


def test_the_rated_unit_never_sees_who_rated(client, login_as, rated, cast):
    ticket = rated(1)
    row = services.rectification_of(ticket)
    login_as(cast.handler)
    html = client.get(f"/ratings/rectifications/{row.id}").get_data(as_text=True)
    assert "答复敷衍" in html  # the comment is the unit's to act on
    assert 'data-testid="evaluator"' not in html and "13812345678" not in html
    assert "林经理" not in html
    login_as(cast.dispatcher)
    html = client.get(f"/ratings/rectifications/{row.id}").get_data(as_text=True)
    assert 'data-testid="evaluator"' in html and "13812345678" in html


def test_another_unit_neither_sees_nor_acts(client, login_as, rated, cast):
    row = services.rectification_of(rated(1))
    login_as(cast.stranger)
    assert client.get(f"/ratings/rectifications/{row.id}").status_code == 404
    assert str(row.ticket.reference) not in client.get("/ratings/rectifications").get_data(
        as_text=True)


def test_the_full_rectification_path(client, login_as, rated, cast):
    ticket = rated(2)
    row = services.rectification_of(ticket)
    page = f"/ratings/rectifications/{row.id}"
    login_as(cast.handler)
    assert post_form(client, f"{page}/classify", {"classification": "fix_now"},
                     token_from=page).status_code == 400  # not verified yet
    login_as(cast.dispatcher)
    assert post_form(client, f"{page}/callback", {"note": "企业确认答复未解决招工问题"},
                     token_from=page).status_code == 302
    login_as(cast.handler)
    assert post_form(client, f"{page}/classify", {"classification": "fix_by_deadline"},
                     token_from=page).status_code == 400  # a deadline fix needs a plan
    assert post_form(client, f"{page}/classify",
                     {"classification": "fix_by_deadline", "plan": "两周内组织专场招聘"},
                     token_from=page).status_code == 302
    assert post_form(client, f"{page}/result", {"result": "已组织专场招聘会，企业招到20人"},
                     token_from=page).status_code == 302
    db.session.refresh(row)
    assert row.status == R.AWAITING_FEEDBACK
    holder = TokenHolder(ticket)
    services.record_feedback(row, holder, "unsatisfied")
    db.session.commit()
    assert (row.status, row.feedback_level, row.feedback_channel) == (
        R.CLOSED, "unsatisfied", "link")
    login_as(cast.supervisor)
    assert post_form(client, f"{page}/reopen", {"reason": "企业仍不满意"},
                     token_from=page, environ_base={"REMOTE_ADDR": "10.3.3.3"}).status_code == 302
    db.session.refresh(ticket)
    assert ticket.status == S.IN_PROGRESS
    assert _event_ip(ticket, "reopen_closed") == "10.3.3.3"


def _event_ip(ticket, action: str) -> str | None:
    from app.tickets.models import TicketEvent

    return db.session.scalar(sa.select(TicketEvent.ip).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == action))


def test_the_evaluator_rates_the_rectification_by_link(client, rated, cast):
    ticket = rated(1)
    row = services.rectification_of(ticket)
    services.record_callback(row, cast.dispatcher, "已回访")
    services.classify(row, cast.handler, "fix_now")
    services.record_result(row, cast.handler, "已当场整改")
    db.session.commit()
    page = f"/track/{ticket.access_token}"
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="feedback-card"' in html and "已当场整改" in html
    assert post_form(client, f"{page}/feedback", {"level": "satisfied"},
                     token_from=page).status_code == 302
    db.session.refresh(row)
    assert (row.status, row.feedback_level) == (R.CLOSED, "satisfied")


def test_an_extension_up_to_fifteen_days_needs_a_supervisor(rated, cast):
    row = services.rectification_of(rated(1))
    services.record_callback(row, cast.dispatcher, "已回访")
    with pytest.raises(ValidationFailed):
        services.request_extension(row, cast.handler, 16, "工程量大")
    services.request_extension(row, cast.handler, 15, "工程量大")
    with pytest.raises(PermissionDenied):
        services.decide_extension(row, cast.lead, True)
    services.decide_extension(row, cast.supervisor, True)
    # 15 working days from Monday 2026-03-02 is Monday 03-23.
    assert (row.due_days, local_day(row.due_at)) == (15, "2026-03-23 23:59")


def test_a_rejected_extension_keeps_the_due_date(rated, cast):
    row = services.rectification_of(rated(1))
    services.record_callback(row, cast.dispatcher, "已回访")
    services.request_extension(row, cast.handler, 10, "需协调")
    services.decide_extension(row, cast.supervisor, False)
    assert (row.due_days, row.extension_status) == (5, "rejected")


def test_the_limits_are_settings_in_the_database(client, login_as, cast, rated):
    login_as(cast.admin)
    assert post_form(client, "/ratings/settings", {"rectification_days": "3",
                                                   "rectification_max_days": "2"}
                     ).status_code == 400
    assert post_form(client, "/ratings/settings", {"rectification_days": "3",
                                                   "rectification_max_days": "10"}
                     ).status_code == 302
    row = services.rectification_of(rated(1))
    assert (row.due_days, local_day(row.due_at)) == (3, "2026-03-05 23:59")
    services.record_callback(row, cast.dispatcher, "已回访")
    with pytest.raises(ValidationFailed):
        services.request_extension(row, cast.handler, 11, "超过上限")


@pytest.mark.parametrize(("upheld", "status"), [(True, R.CLOSED),
                                                (False, R.AWAITING_CLASSIFICATION)])
def test_appeals_are_decided_by_a_supervisor(rated, cast, upheld, status):
    row = services.rectification_of(rated(1))
    services.record_callback(row, cast.dispatcher, "已回访")
    with pytest.raises(ValidationFailed):
        services.classify(row, cast.handler, "appeal")  # an appeal needs its reason
    services.classify(row, cast.handler, "appeal", appeal_reason="恶意差评：企业诉求与本单位无关")
    assert row.status == R.APPEALED
    with pytest.raises(PermissionDenied):
        services.decide_appeal(row, cast.dispatcher, True, "同意")
    services.decide_appeal(row, cast.supervisor, upheld, "核实情况")
    assert row.status == status


def test_only_the_responsible_unit_classifies(rated, cast):
    row = services.rectification_of(rated(1))
    services.record_callback(row, cast.dispatcher, "已回访")
    with pytest.raises(PermissionDenied):
        services.classify(row, cast.stranger, "fix_now")
    with pytest.raises(PermissionDenied):
        services.classify(row, cast.dispatcher, "fix_now")


def test_the_supervisor_list_shows_open_ones_by_deadline(client, login_as, cast, rated,
                                                         frozen_clock):
    first = services.rectification_of(rated(1))
    frozen_clock.advance(timedelta(days=1))
    second = services.rectification_of(rated(2))
    frozen_clock.advance(timedelta(days=10))
    login_as(cast.supervisor)
    html = client.get("/ratings/rectifications").get_data(as_text=True)
    assert html.index(first.ticket.reference) < html.index(second.ticket.reference)
    assert "Overdue" in html and 'data-testid="rating-figures"' in html
    overdue = client.get("/ratings/rectifications?overdue=y").get_data(as_text=True)
    assert first.ticket.reference in overdue


def test_supervisor_figures_count_callbacks_and_results(rated, cast):
    one = services.rectification_of(rated(1))
    services.rectification_of(rated(2))
    rated(5)
    services.record_callback(one, cast.dispatcher, "已回访")
    services.classify(one, cast.handler, "explain", plan="无法律依据，已解释")
    services.record_result(one, cast.handler, "已解释")
    db.session.commit()
    assert (queries.callback_rate().numerator, queries.callback_rate().denominator) == (1, 2)
    assert queries.rectification_rate().rate == 0.5
    assert (queries.satisfaction_rate().numerator,
            queries.satisfaction_rate().denominator) == (1, 3)


def test_the_rectification_constraints_hold_in_the_database(rated):
    row = services.rectification_of(rated(1))
    row.status = R.CLOSED  # without closed_at
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError from the CHECK
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(sa.select(Rectification.status)) == R.AWAITING_CALLBACK


def test_the_ticket_page_hides_the_rater_from_the_unit(client, login_as, cast, make):
    evaluator = make.user("firm_user", firm=cast.firm_a, display_name="评价人甲")
    ticket = make.ticket(actor=cast.dispatcher, firm=cast.firm_a)
    walk(ticket, cast, S.FOLLOW_UP)
    services.rate_online(ticket, evaluator, 1)
    db.session.commit()
    login_as(cast.handler)
    assert "评价人甲" not in client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    login_as(cast.dispatcher)
    assert "评价人甲" in client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
