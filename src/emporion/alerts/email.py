"""The e-mail channel: one message per alert through an SMTP server (STARTTLS or TLS, verified)."""

from __future__ import annotations

import ssl
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from emporion.alerts import Alert, render
from emporion.config import EmailChannel

# RFC 5322 allows 998 characters a line; Python folds shorter lines after "Subject:" itself, which
# some mail readers then show with a leading space
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


class EmailSender:
    """Sends alerts by e-mail as configured in `alerts.email`."""

    def __init__(self, settings: EmailChannel) -> None:
        self.settings = settings
        self.name = "email"
        self.kinds = set(settings.kinds) if settings.kinds is not None else None

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail for an alert: the title as subject, the plain text as body."""
        message = EmailMessage(policy=MAIL_POLICY)
        message["Subject"] = f"emporion {render.title(alert)}"
        message["From"] = self.settings.from_
        message["To"] = ", ".join(self.settings.to)
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.settings.from_.rpartition("@")[2] or None)
        message["X-Emporion-Alert"] = alert.key
        message.set_content(render.text(alert) + "\n")
        return message

    async def send(self, alert: Alert) -> None:
        """Deliver the alert's e-mail; raises on any failure (the dispatcher keeps it for a retry)."""
        settings = self.settings
        password = settings.password.get_secret_value() if settings.password else None
        await aiosmtplib.send(
            self.message(alert).as_bytes(),  # as bytes: aiosmtplib would fold the headers again
            sender=settings.from_,
            recipients=settings.to,
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=password,
            use_tls=settings.security == "ssl",
            start_tls=settings.security == "starttls",
            validate_certs=settings.tls.verify,
            tls_context=self._tls_context(),
            timeout=settings.timeout,
        )

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.settings.security == "none" or not self.settings.tls.verify:
            return None
        return ssl.create_default_context(cafile=self.settings.tls.ca_bundle)
