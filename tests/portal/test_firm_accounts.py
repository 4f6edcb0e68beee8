"""Firm accounts: registration, approval, invitation, and firm A never reaching firm B."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.core import mail, storage
from app.core.permissions import Role
from app.extensions import db
from app.portal.models import FirmRegistration
from app.tickets import attachment_files
from app.tickets import services as tickets
from app.tickets.models import CommentVisibility, TicketStatus
from tests.helpers import csrf_token, post_form
from tests.portal.conftest import request_data, submit, walk

S = TicketStatus


def registration_data(**overrides):
    values = {"firm_name": "甲精密机械有限公司", "uscc": "91320583314159268J",
              "contact_name": "林经理", "mobile": "13700000001", "email": "lin@example.com",
              "consent": "y", "website": ""}
    values.update(overrides)
    return values


def test_a_registration_waits_without_creating_a_user(client):
    response = post_form(client, "/portal/register", registration_data())
    assert response.status_code == 200 and 'data-testid="registered"' in response.get_data(
        as_text=True)
    row = db.session.scalar(sa.select(FirmRegistration))
    assert row.status == "pending" and row.user_id is None
    assert db.session.scalar(sa.select(User).where(User.username == "13700000001")) is None


def test_a_bad_uscc_or_honeypot_registers_nothing(client):
    bad = post_form(client, "/portal/register", registration_data(uscc="91310110666007217A"))
    robot = post_form(client, "/portal/register", registration_data(website="x"))
    assert bad.status_code == robot.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(FirmRegistration.id))) == 0


def test_a_firm_user_without_a_firm_is_refused_by_the_database(make):
    with pytest.raises(IntegrityError):
        make.user(Role.FIRM_USER, firm=None, firm_id=None)
    db.session.rollback()


def test_approval_links_the_account_to_the_registry_firm(client, login_as, cast):
    post_form(client, "/portal/register", registration_data(uscc=cast.firm_a.uscc))
    row = db.session.scalar(sa.select(FirmRegistration))
    assert row.firm_id == cast.firm_a.id  # matched by USCC
    login_as(cast.dispatcher)
    page = f"/portal/registrations/{row.id}"
    response = post_form(client, f"{page}/approve", {"firm": str(cast.firm_a.id)},
                         token_from=page)
    assert response.status_code == 200
    user = db.session.scalar(sa.select(User).where(User.username == "13700000001"))
    assert (user.role, user.firm_id, user.must_change_password) == (
        Role.FIRM_USER, cast.firm_a.id, True)
    assert 'data-testid="temporary-password"' in response.get_data(as_text=True)
    assert any("13700000001" in m.body for m in mail.outbox if "lin@example.com" in m.to)
    db.session.refresh(row)
    assert row.status == "approved" and row.user_id == user.id


def test_rejection_keeps_the_request_and_tells_the_contact(client, login_as, cast):
    post_form(client, "/portal/register", registration_data())
    row = db.session.scalar(sa.select(FirmRegistration))
    login_as(cast.dispatcher)
    page = f"/portal/registrations/{row.id}"
    assert post_form(client, f"{page}/reject", {"reason": "非本市企业"},
                     token_from=page).status_code == 302
    db.session.refresh(row)
    assert row.status == "rejected" and row.decision_reason == "非本市企业"


def test_a_dispatcher_invites_a_contact(client, login_as, cast):
    login_as(cast.dispatcher)
    path = f"/portal/firms/{cast.firm_b.id}/invite"
    response = post_form(client, path, {"contact_name": "王总", "mobile": "13700000009",
                                        "email": "wang@example.com"})
    assert response.status_code == 200
    user = db.session.scalar(sa.select(User).where(User.username == "13700000009"))
    assert user.firm_id == cast.firm_b.id


@pytest.mark.parametrize("role", [Role.HANDLER, Role.FIRM_USER, Role.SUPERVISOR])
def test_only_dispatchers_decide_registrations(client, login_as, make, role):
    login_as(make.user(role))
    assert client.get("/portal/registrations").status_code == 403


def test_a_firm_user_submits_pre_filled_for_their_firm(client, login_as, cast):
    login_as(cast.user_a)
    form = client.get("/portal/requests/new").get_data(as_text=True)
    assert cast.firm_a.name in form and cast.firm_a.uscc in form and "13900000001" in form
    data = request_data(firm_name="改名企图", uscc="91310110666007217T", title="账号提交")
    data["csrf_token"] = csrf_token(client, "/portal/requests/new")
    response = client.post("/portal/requests/new", data=data)
    assert response.status_code == 302
    ticket = tickets_of(cast.firm_a)[0]
    assert (ticket.channel, ticket.firm_id, ticket.created_by_id) == (
        "portal", cast.firm_a.id, cast.user_a.id)


def tickets_of(firm):
    from app.tickets.models import Ticket

    return db.session.scalars(sa.select(Ticket).where(Ticket.firm_id == firm.id)).all()


@pytest.fixture
def two_firms(cast, app):
    """A follow-up ticket of each firm, each with a public file and an internal comment."""
    rows = {}
    for name, firm in (("a", cast.firm_a), ("b", cast.firm_b)):
        ticket = submit(uscc=firm.uscc, title=f"{name}的诉求")
        checked = [("f.pdf", b"%PDF-1.4 " + name.encode(), "application/pdf")]
        [row] = attachment_files.store(ticket, checked)
        tickets.add_comment(ticket, cast.dispatcher, f"内部备注{name}",
                            CommentVisibility.INTERNAL)
        db.session.commit()
        walk(ticket, cast, S.FOLLOW_UP)
        rows[name] = (ticket, row)
    return rows


FIRM_ROUTES = [("GET", "/portal/tickets/{ref}"),
               ("GET", "/portal/tickets/{ref}/files/{file}"),
               ("POST", "/portal/tickets/{ref}/supply"),
               ("POST", "/portal/tickets/{ref}/withdraw"),
               ("POST", "/portal/tickets/{ref}/rate"),
               ("POST", "/portal/tickets/{ref}/feedback"),
               ("GET", "/tickets/{ref}")]


@pytest.mark.parametrize(("method", "route"), FIRM_ROUTES)
def test_firm_a_never_reaches_firm_b(client, login_as, cast, two_firms, method, route):
    ticket_b, file_b = two_firms["b"]
    login_as(cast.user_a)
    path = route.format(ref=ticket_b.reference, file=file_b.stored_name)
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf_token": csrf_token(client, "/portal/tickets"),
                                           "level": "1", "reason": "x", "text": "x"})
    assert response.status_code == 404
    db.session.refresh(ticket_b)
    assert ticket_b.status == S.FOLLOW_UP


@pytest.mark.parametrize(("method", "route"), FIRM_ROUTES[:2])
def test_firm_a_reaches_its_own(client, login_as, cast, two_firms, method, route):
    ticket_a, file_a = two_firms["a"]
    login_as(cast.user_a)
    response = client.get(route.format(ref=ticket_a.reference, file=file_a.stored_name))
    assert response.status_code == 200


def test_the_firm_list_and_profile_show_only_the_own_firm(client, login_as, cast, two_firms):
    login_as(cast.user_a)
    listing = client.get("/portal/tickets").get_data(as_text=True)
    assert two_firms["a"][0].reference in listing
    assert two_firms["b"][0].reference not in listing
    profile = client.get("/portal/firm").get_data(as_text=True)
    assert cast.firm_a.uscc in profile and cast.firm_b.uscc not in profile


def test_a_firm_user_never_sees_internal_comments(client, login_as, cast, two_firms):
    ticket_a, _file = two_firms["a"]
    login_as(cast.user_a)
    html = client.get(f"/portal/tickets/{ticket_a.reference}").get_data(as_text=True)
    assert "内部备注" not in html
    assert "已协调人社局" in html  # the approved reply is public


def test_a_firm_user_rates_from_the_account(client, login_as, cast, two_firms):
    ticket_a, _file = two_firms["a"]
    login_as(cast.user_a)
    page = f"/portal/tickets/{ticket_a.reference}"
    response = post_form(client, f"{page}/rate", {"level": "5"}, token_from=page)
    assert response.status_code == 302
    db.session.refresh(ticket_a)
    assert ticket_a.rating_level == 5


@pytest.mark.parametrize("path", ["/portal/tickets", "/portal/firm", "/portal/requests/new"])
def test_staff_have_no_firm_pages(client, login_as, cast, path):
    login_as(cast.dispatcher)
    assert client.get(path).status_code == 403


def test_a_firm_file_is_not_in_the_web_root(app, two_firms):
    _ticket, row = two_firms["a"]
    path = attachment_files.path_of(row)
    assert not path.startswith(app.static_folder)
    with open(path, "rb") as handle:
        assert handle.read().startswith(b"%PDF")


def test_the_upload_is_checked_by_content_not_name(app):
    from app.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        storage.check_files([FakeUpload("a.pdf", b"MZ\x90\x00 not a pdf")])


class FakeUpload:
    def __init__(self, filename, content):
        self.filename, self._stream = filename, io.BytesIO(content)

    def read(self, size=-1):
        return self._stream.read(size)


def test_a_firm_with_an_accepted_legacy_code_can_still_send(client, login_as, make):
    firm = make.firm(uscc="91350100M0001TGQXM")  # a 2015 pilot code that fails the check
    user = make.user(Role.FIRM_USER, firm=firm, mobile="13900000003")
    login_as(user)
    data = request_data(title="旧代码企业")
    data["csrf_token"] = csrf_token(client, "/portal/requests/new")
    assert client.post("/portal/requests/new", data=data).status_code == 302
    assert tickets_of(firm)[0].requester_uscc == "91350100M0001TGQXM"


def test_the_invitation_starts_from_the_firm_code(client, login_as, cast):
    login_as(cast.dispatcher)
    found = client.get(f"/portal/invite?uscc={cast.firm_a.uscc.lower()}")
    assert found.headers["Location"].endswith(f"/portal/firms/{cast.firm_a.id}/invite")
    missing = client.get("/portal/invite?uscc=91310110666007217T")
    assert missing.headers["Location"].endswith("/portal/registrations")


MARKUP = '<script>alert("x")</script><b>粗</b>'


def test_markup_is_escaped_on_the_firm_and_rectification_pages(client, login_as, cast):
    from app.ratings import services as ratings

    login_as(cast.user_a)
    data = request_data(title=MARKUP, description=MARKUP, contact_name=MARKUP[:60])
    data["csrf_token"] = csrf_token(client, "/portal/requests/new")
    client.post("/portal/requests/new", data=data)
    ticket = tickets_of(cast.firm_a)[0]
    walk(ticket, cast, S.FOLLOW_UP)
    ratings.rate_online(ticket, cast.user_a, 1, MARKUP)
    db.session.commit()
    pages = [client.get("/portal/tickets"), client.get(f"/portal/tickets/{ticket.reference}")]
    login_as(cast.supervisor)
    row = ratings.rectification_of(ticket)
    pages += [client.get("/ratings/rectifications"),
              client.get(f"/ratings/rectifications/{row.id}")]
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200, page.request.path
        assert "<script>alert" not in html and "<b>粗</b>" not in html, page.request.path
        assert "&lt;script&gt;" in html or "&lt;b&gt;" in html, page.request.path
