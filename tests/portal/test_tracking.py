"""Status lookup and the tracking link: what the requester sees and may do."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.portal import services as portal
from app.ratings.models import Rating
from app.tickets import services as tickets
from app.tickets.models import Comment, CommentVisibility, Ticket, TicketStatus
from tests.helpers import csrf_token
from tests.portal.conftest import submit, walk

S = TicketStatus


def post(client, path, data, token_from, **kwargs):
    payload = dict(data, csrf_token=csrf_token(client, token_from))
    return client.post(path, data=payload, **kwargs)


def test_lookup_by_reference_and_mobile_opens_the_tracking_page(client):
    ticket = submit()
    response = post(client, "/track", {"reference": ticket.reference.lower(),
                                       "mobile": "138-1234-5678"}, "/track")
    assert response.headers["Location"].endswith(f"/track/{ticket.access_token}")


def test_every_mismatch_gets_the_same_answer(client):
    ticket = submit()
    wrong_mobile = post(client, "/track", {"reference": ticket.reference,
                                           "mobile": "13900000000"}, "/track")
    unknown = post(client, "/track", {"reference": "KS2026-999999",
                                      "mobile": "13812345678"}, "/track")
    message = "No request matches this reference and mobile number."
    assert wrong_mobile.status_code == unknown.status_code == 200
    assert message in wrong_mobile.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_guessing_the_mobile_of_one_reference_is_stopped_from_any_address(client):
    ticket = submit()
    codes = [post(client, "/track", {"reference": ticket.reference,
                                     "mobile": f"1390000{n:04d}"}, "/track",
                  environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code for n in range(6)]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    right = post(client, "/track", {"reference": ticket.reference, "mobile": "13812345678"},
                 "/track", environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert right.status_code == 429  # the reference stays locked for the window


def test_lookups_from_one_address_are_limited(client, app):
    app.config["PORTAL_LOOKUP_LIMIT"] = "3 per minute"
    try:
        codes = [post(client, "/track", {"reference": f"KS2026-00000{n}",
                                         "mobile": "13812345678"}, "/track").status_code
                 for n in range(4)]
    finally:
        app.config["PORTAL_LOOKUP_LIMIT"] = "10 per minute;100 per day"
    assert codes == [200, 200, 200, 429]


def test_access_tokens_are_long_random_and_unrelated_to_the_id(client):
    first, second = submit(), submit(title="另一件")
    for ticket in (first, second):
        assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", ticket.access_token)
        assert str(ticket.id) != ticket.access_token
        assert ticket.reference not in ticket.access_token
    assert first.access_token != second.access_token
    assert client.get(f"/track/{first.id}").status_code == 404
    assert client.get(f"/track/{first.reference}").status_code == 404
    assert client.get(f"/track/{first.access_token[:-1]}x").status_code == 404


def test_the_tracking_page_shows_public_comments_only(client, cast):
    ticket = walk(submit(), cast, S.IN_PROGRESS)
    tickets.add_comment(ticket, cast.handler, "内部：领导批示另行处理", CommentVisibility.INTERNAL)
    tickets.add_comment(ticket, cast.handler, "已联系人社局", CommentVisibility.PUBLIC)
    db.session.commit()
    html = client.get(f"/track/{ticket.access_token}").get_data(as_text=True)
    assert "已联系人社局" in html
    assert "内部" not in html
    assert cast.handler.display_name not in html


def test_a_reply_is_shown_only_once_approved(client, cast):
    ticket = walk(submit(), cast, S.REPLIED)
    assert "已协调人社局" not in client.get(f"/track/{ticket.access_token}").get_data(as_text=True)
    tickets.transition(ticket, "approve_reply", cast.dispatcher)
    db.session.commit()
    html = client.get(f"/track/{ticket.access_token}").get_data(as_text=True)
    assert 'data-testid="reply"' in html and "已协调人社局" in html


def test_supplying_information_resumes_a_suspended_ticket(client, cast):
    ticket = walk(submit(), cast, S.SUSPENDED)
    page = f"/track/{ticket.access_token}"
    assert "营业执照复印件" in client.get(page).get_data(as_text=True)
    response = post(client, f"{page}/supply", {"text": "已上传营业执照"}, page)
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.status == S.IN_PROGRESS
    comment = db.session.scalar(sa.select(Comment).where(Comment.ticket_id == ticket.id))
    assert comment.body == "已上传营业执照" and comment.visibility == "public"


def test_the_requester_can_withdraw_by_link(client):
    ticket = submit()
    page = f"/track/{ticket.access_token}"
    response = post(client, f"{page}/withdraw", {"reason": "已自行解决"}, page)
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.status == S.WITHDRAWN


def test_the_rating_form_offers_five_levels_with_none_chosen(client, cast):
    ticket = walk(submit(), cast, S.FOLLOW_UP)
    html = client.get(f"/track/{ticket.access_token}").get_data(as_text=True)
    radios = re.findall(r'<input[^>]*name="level"[^>]*>', html)
    assert len(radios) == 5
    assert not any("checked" in radio for radio in radios)


def test_rating_by_link_closes_the_ticket_once(client, cast):
    ticket = walk(submit(), cast, S.FOLLOW_UP)
    page = f"/track/{ticket.access_token}"
    assert post(client, f"{page}/rate", {"comment": "没选等级"}, page).status_code == 400
    assert post(client, f"{page}/rate", {"level": "4", "comment": "及时"}, page).status_code == 302
    db.session.refresh(ticket)
    assert (ticket.status, ticket.rating_level) == (S.CLOSED, 4)
    rating = db.session.scalar(sa.select(Rating).where(Rating.ticket_id == ticket.id))
    assert (rating.channel, rating.comment) == ("link", "及时")
    again = post(client, f"{page}/rate", {"level": "1"}, page)
    assert again.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Rating.id))) == 1


def test_a_token_acts_on_its_own_ticket_only(cast):
    mine, other = submit(), submit(title="别人的")
    holder = portal.TokenHolder(mine)
    assert mine.can_view(holder) and not other.can_view(holder)


def test_files_download_by_link_and_never_by_another_link(client):
    import io

    payload = {"firm_name": "甲", "uscc": "91320583314159268J", "contact_name": "林",
               "mobile": "13812345678", "demand_type": "consult", "title": "附件",
               "description": "见附件", "consent": "y",
               "attachments": (io.BytesIO(b"%PDF-1.7 file"), "a.pdf")}
    post(client, "/request", payload, "/request", content_type="multipart/form-data")
    ticket = db.session.scalar(sa.select(Ticket))
    other = submit(title="另一件")
    html = client.get(f"/track/{ticket.access_token}").get_data(as_text=True)
    name = re.search(r"/files/([0-9a-f]{32})", html).group(1)
    download = client.get(f"/track/{ticket.access_token}/files/{name}")
    assert download.status_code == 200 and download.data == b"%PDF-1.7 file"
    assert "attachment" in download.headers["Content-Disposition"]
    assert client.get(f"/track/{other.access_token}/files/{name}").status_code == 404


def _event_ips(ticket) -> dict[str, str | None]:
    from app.tickets.models import TicketEvent

    return dict(db.session.execute(sa.select(TicketEvent.action, TicketEvent.ip).where(
        TicketEvent.ticket_id == ticket.id)).all())


def test_the_requesters_address_is_recorded_on_every_event_it_causes(client, cast):
    """The view passes the address to the services (they never read the request)."""
    address = {"environ_base": {"REMOTE_ADDR": "10.4.5.6"}}
    suspended = walk(submit(), cast, S.SUSPENDED)
    page = f"/track/{suspended.access_token}"
    post(client, f"{page}/supply", {"text": "已上传营业执照"}, page, **address)
    assert (_event_ips(suspended)["supply_info"], _event_ips(suspended)["resume"]) == (
        "10.4.5.6", "10.4.5.6")
    withdrawn = submit()
    page = f"/track/{withdrawn.access_token}"
    post(client, f"{page}/withdraw", {"reason": "已自行解决"}, page, **address)
    assert _event_ips(withdrawn)["withdraw"] == "10.4.5.6"
    rated = walk(submit(), cast, S.FOLLOW_UP)
    page = f"/track/{rated.access_token}"
    post(client, f"{page}/rate", {"level": "4"}, page, **address)
    assert _event_ips(rated)["rate"] == "10.4.5.6"
