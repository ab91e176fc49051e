"""Mail to students through SES v2 (``sesv2`` ``SendEmail``, simple content, plain text).

One sender for every function that mails (auth's verification and reset links, the notifications
function's reminders): the From address is the ``MAIL_FROM`` setting, an address at the stack's
SES identity (template.yaml ``MailIdentity``), and each function that sends is granted
``ses:SendEmail`` on that identity only. On the local stack the same call reaches moto's SES, which
accepts the identity ``infra.local_aws`` created from the template, and the dev server prints each
mail it is given (to, subject, link).

The client is made on the first send and kept for the container (dropped around SnapStart
snapshots), so importing this module costs no botocore work at cold start. Nothing here logs a
link or a body: the links carry single-use secrets.
"""

from __future__ import annotations

from mindly.aws_clients import ContainerClient
from mindly.config import get_settings
from mindly.exceptions import ServiceUnavailable
from mindly.observability import logger

# One SES client per container, for quick calls (mindly.aws_clients).
_client = ContainerClient("sesv2", lambda settings: settings.sesv2_endpoint_url)
# Drops the SES client (its connections and the credentials it read); the next send makes one.
forget_client = _client.forget

# SES refuses a subject line over 998 characters (RFC 5322's line limit); ours are one short line.
MAX_SUBJECT_CHARS = 200


def compose(text: str, link: str | None) -> str:
    """The body of a mail: ``text``, then the link on a line of its own (mail clients make a bare
    URL on its own line clickable, and the dev server finds it there)."""
    body = text.rstrip()
    return f"{body}\n\n{link}\n" if link else f"{body}\n"


def send_mail(to: str, subject: str, text: str, link: str | None = None) -> str:
    """Send one plain-text mail to ``to`` from ``MAIL_FROM``; the SES message id.

    ``ServiceUnavailable`` when mail is not configured or SES does not take the message (throttled,
    unreachable, the address refused): a caller that must not reveal whether it sent (forgot
    password) catches it."""
    if "\n" in subject or "\r" in subject or len(subject) > MAX_SUBJECT_CHARS:
        raise ValueError("a subject is one line of at most 200 characters")
    settings = get_settings()
    if not settings.mail_from:
        raise ServiceUnavailable("Mail is not configured for this deployment")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = _client().send_email(
            FromEmailAddress=settings.mail_from,
            Destination={"ToAddresses": [to]},
            Content={"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"},
                                "Body": {"Text": {"Data": compose(text, link), "Charset": "UTF-8"}}}},
        )
    except (ClientError, BotoCoreError) as exc:
        code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else type(exc).__name__
        logger.warning("mail not sent", extra={"reason": code})
        raise ServiceUnavailable("The mail could not be sent; try again shortly") from exc
    message_id = str(answer["MessageId"])
    logger.info("mail sent", extra={"message_id": message_id})
    return message_id
