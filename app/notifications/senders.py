"""The built-in channels: ``email`` (``MAIL_BACKEND``, :mod:`app.core.mail`)."""

from __future__ import annotations

from app.core import mail
from app.notifications.channels import Delivery, register_channel


def deliver_email(delivery: Delivery, connection) -> None:
    """One e-mail to one address, over the batch's SMTP session when there is one."""
    mail.send(mail.Message((delivery.address,), delivery.subject, delivery.body,
                           dict(delivery.tags)), connection)


register_channel("email", deliver_email, connect=mail.smtp_connection)
