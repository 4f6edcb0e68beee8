"""The public request form: validation, escaping, honeypot, rate limits, receipt and e-mail."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from app.core import mail
from app.core.audit import AuditEvent
from app.core.clock import to_local
from app.extensions import db
from app.portal import services as portal
from app.tickets import deadlines
from app.tickets.models import Attachment, Channel, Comment, Ticket
from tests.helpers import csrf_token
from tests.portal.conftest import USCC_A, request_data

MARKUP = '<script>alert("x")</script><b>粗</b>'


def post_request(client, data, **kwargs):
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, "/request")
    return client.post("/request", data=payload, **kwargs)


def ticket_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Ticket.id)))


def test_front_page_is_the_public_form_for_visitors(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="request-form"' in html
    assert 'data-testid="privacy-notice"' in html
    assert "/auth/login" in html  # staff still reach sign-in


def test_signed_in_staff_go_home_from_the_front_page(client, login_as, make):
    login_as(make.user("dispatcher"))
    assert client.get("/").headers["Location"].endswith("/home")


def test_a_valid_request_gives_reference_tracking_link_and_the_sla_date(client, frozen_clock):
    response = post_request(client, request_data())
    assert response.status_code == 302
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.channel == Channel.WEB and ticket.requester_mobile == "13812345678"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket.reference in page
    assert f"/track/{ticket.access_token}" in page
    sla = deadlines.for_ticket(ticket)
    promised = sla.due(deadlines.SlaStep.HANDLE, ticket.intake_due_at)
    assert portal.promised_answer_at(ticket) == promised
    # Monday 2 March 2026, 10:00: help requests get 5 working days counted from intake.
    local = to_local(promised)
    assert f"{local.day} {local:%b %Y %H:%M}" in page  # English: "9 Mar 2026 23:59"
    assert to_local(promised).date().isoformat() in ("2026-03-09", "2026-03-10")


def test_the_confirmation_mail_leaves_only_after_commit_and_carries_the_link(client):
    post_request(client, request_data())
    ticket = db.session.scalar(sa.select(Ticket))
    [message] = [m for m in mail.outbox if "lin@example.com" in m.to]
    assert ticket.reference in message.body and ticket.access_token in message.body


def test_no_mail_without_an_address(client):
    post_request(client, request_data(email=""))
    assert mail.outbox == []
    assert ticket_count() == 1


def test_a_registered_uscc_links_the_registry_firm(client, make):
    firm = make.firm()
    post_request(client, request_data(uscc=firm.uscc.lower()))
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.firm_id == firm.id


def test_an_unknown_uscc_keeps_an_unregistered_requester(client):
    post_request(client, request_data(uscc=USCC_A, firm_name="未登记企业"))
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.firm_id is None
    assert (ticket.requester_firm_name, ticket.requester_uscc) == ("未登记企业", USCC_A)


def test_taiwan_mark_keeps_the_firm_s_category_and_the_receipt_says_so(client, make):
    """涉台 is a mark beside the firm's own category, not a replacement (DOMAIN §3)."""
    permits = make.category(code="permits_t", name="审批许可T")
    response = post_request(client, request_data(is_taiwan="y", category=str(permits.id),
                                                  email="lin@example.com"))
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.category_id == permits.id and ticket.is_taiwan_related
    note = db.session.scalar(sa.select(Comment).where(Comment.ticket_id == ticket.id))
    assert note.visibility == "internal" and "Taiwan" in note.body
    receipt = client.get(response.headers["Location"], headers={"Accept-Language": "en"})
    mark = re.search(r'data-testid="taiwan-mark">([^<]*)<', receipt.get_data(as_text=True))
    assert mark and "审批许可T" in mark.group(1) and "Taiwan Affairs Office" in mark.group(1)
    [message] = [m for m in mail.outbox if "lin@example.com" in m.to]
    assert "审批许可T" in message.body


def test_a_request_without_the_mark_says_nothing_of_it(client, make):
    response = post_request(client, request_data())
    ticket = db.session.scalar(sa.select(Ticket))
    assert not ticket.is_taiwan_related
    assert "taiwan-mark" not in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("uscc", "91310110666007217A", "check character"),
    ("uscc", "9131011066600721", "exactly 18"),
    ("uscc", "91310110666OO7217T", "capital letters"),
    ("uscc", "", "This field is required"),
    ("mobile", "12345678901", "11-digit mainland mobile"),
    ("mobile", "1381234567", "11-digit mainland mobile"),
    ("mobile", "", "This field is required"),
    ("email", "not-an-address", "Invalid email"),
    ("firm_name", "", "This field is required"),
    ("firm_name", "企" * 201, "longer than"),
    ("contact_name", "名" * 65, "longer than"),
    ("title", "", "This field is required"),
    ("title", "题" * 201, "longer than"),
    ("description", "   ", "This field is required"),
    ("description", "字" * 5001, "longer than"),
    ("demand_type", "bribe", "Not a valid choice"),
    ("consent", "", "agree to the privacy notice"),
])
def test_bad_input_is_refused_next_to_the_field_and_kept(client, field, value, message):
    data = request_data(**{field: value})
    data.update(title="保留的标题" if field != "title" else value)
    response = post_request(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "is-invalid" in html
    if field != "title":
        assert "保留的标题" in html
    assert ticket_count() == 0


def test_markup_in_every_field_is_shown_escaped_everywhere(client, login_as, make):
    data = request_data(firm_name=MARKUP, contact_name=MARKUP[:60], title=MARKUP,
                        description=MARKUP)
    response = post_request(client, data)
    ticket = db.session.scalar(sa.select(Ticket))
    pages = [client.get(response.headers["Location"]),
             client.get(f"/track/{ticket.access_token}")]
    bad = post_request(client, dict(data, mobile="bad", email=MARKUP[:50]))
    pages.append(bad)
    login_as(make.user("dispatcher"))
    pages += [client.get("/portal/intake"), client.get(f"/tickets/{ticket.reference}"),
              client.get(f"/portal/intake/{ticket.id}/answer")]
    for page in pages:
        html = page.get_data(as_text=True)
        assert "<script>alert" not in html and "<b>粗</b>" not in html, page.request.path
        assert "&lt;script&gt;" in html or "&lt;b&gt;" in html, page.request.path


def test_the_honeypot_refuses_robots_and_writes_nothing(client):
    response = post_request(client, request_data(website="http://spam.example"))
    assert response.status_code == 400
    assert ticket_count() == 0
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "portal.honeypot"))
    assert event is not None and event.success is False


def test_the_form_is_rate_limited_per_address(client, app):
    app.config["PORTAL_SUBMIT_LIMIT"] = "3 per minute"
    try:
        codes = [post_request(client, request_data(title=f"第{n}件")).status_code
                 for n in range(4)]
        other = post_request(client, request_data(title="另一地址"),
                             environ_base={"REMOTE_ADDR": "10.9.9.9"})
    finally:
        app.config["PORTAL_SUBMIT_LIMIT"] = "5 per minute;50 per day"
    assert codes == [302, 302, 302, 429]
    assert other.status_code == 302
    assert ticket_count() == 4


def test_the_default_limit_is_five_a_minute_and_fifty_a_day(app):
    assert app.config["PORTAL_SUBMIT_LIMIT"] == "5 per minute;50 per day"


def test_a_pdf_is_stored_outside_static_under_a_random_name(client, app):
    files = {"attachments": (io.BytesIO(b"%PDF-1.4 test"), "营业执照.pdf")}
    response = post_request(client, dict(request_data(), **files),
                            content_type="multipart/form-data")
    assert response.status_code == 302
    row = db.session.scalar(sa.select(Attachment))
    assert row.original_name == "营业执照.pdf" and row.content_type == "application/pdf"
    assert "static" not in app.config["TICKET_UPLOAD_DIR"]
    assert re.fullmatch(r"[0-9a-f]{32}", row.stored_name)


def test_a_file_that_is_not_a_document_is_refused(client):
    files = {"attachments": (io.BytesIO(b"<html><script>x</script>"), "a.pdf")}
    response = post_request(client, dict(request_data(), **files),
                            content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not a PDF, JPG, PNG, DOCX or XLSX" in response.get_data(as_text=True)
    assert ticket_count() == 0
