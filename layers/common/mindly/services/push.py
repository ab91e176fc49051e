"""Push notifications through SNS mobile push: one platform endpoint per device token.

Each platform (``fcm``, ``apns``) has its SNS platform application, created outside the stack
with the provider's credentials and named by ARN in the settings (template parameters
``FcmPlatformApplicationArn`` / ``ApnsPlatformApplicationArn``); a platform without one takes no
devices. On the local stack ``infra.local_aws`` creates both in moto's SNS.

``CreatePlatformEndpoint`` is idempotent by token: the same token gives the same endpoint. SNS
disables an endpoint when the provider says the token is dead (app uninstalled); a publish to it is
refused with ``EndpointDisabled``, and the caller then forgets the device (``EndpointGone``).
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from mindly.aws_clients import ContainerClient
from mindly.config import get_settings
from mindly.exceptions import FeatureNotConfigured
from mindly.observability import logger

PLATFORMS = ("fcm", "apns")
# What SNS answers for an endpoint that will never deliver again.
GONE_CODES = frozenset({"EndpointDisabled", "NotFound"})

# One SNS client per container, for quick calls (mindly.aws_clients).
_client = ContainerClient("sns", lambda settings: settings.sns_endpoint_url)
# Drops the SNS client (its connections and the credentials it read); the next call makes one.
forget_client = _client.forget

_EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:\S+) already exists with the same [Tt]oken")


class EndpointGone(Exception):
    """The device's endpoint is disabled or deleted: it will never deliver again."""


def application_arn(platform: str) -> str:
    """The platform application devices of ``platform`` register with; FeatureNotConfigured when
    this deployment has none."""
    settings = get_settings()
    arn = {"fcm": settings.fcm_platform_application_arn,
           "apns": settings.apns_platform_application_arn}.get(platform)
    if not arn:
        raise FeatureNotConfigured(f"Push notifications through {platform} are not configured for this deployment")
    return arn


class Endpoint(NamedTuple):
    arn: str
    previous_owner: str | None  # the account the endpoint was registered for before, if another's


def create_endpoint(platform: str, token: str, owner: str) -> Endpoint:
    """The SNS endpoint for a device token (the same token: the same endpoint), enabled, and marked
    as ``owner``'s (its CustomUserData): a phone signed in to another account registers the same
    token, and the endpoint is then the latest account's (``previous_owner`` says whose it was).

    An endpoint SNS disabled earlier keeps its ARN and stays disabled when created again, so it is
    turned back on: the app only registers a token the provider has just handed it."""
    from botocore.exceptions import ClientError

    client = _client()
    try:
        arn = str(client.create_platform_endpoint(PlatformApplicationArn=application_arn(platform),
                                                  Token=token)["EndpointArn"])
    except ClientError as exc:
        # SNS refuses to create an endpoint for a token it has with other attributes (disabled, say)
        # and names that endpoint in the message; AWS's own registration recipe takes it from there.
        found = _EXISTING_ENDPOINT.search(str(exc.response.get("Error", {}).get("Message", "")))
        if exc.response.get("Error", {}).get("Code") != "InvalidParameter" or found is None:
            raise
        arn = found.group(1)
    before = client.get_endpoint_attributes(EndpointArn=arn).get("Attributes", {}).get("CustomUserData") or None
    client.set_endpoint_attributes(EndpointArn=arn, Attributes={"Token": token, "Enabled": "true",
                                                                 "CustomUserData": owner})
    return Endpoint(arn, before if before != owner else None)


def delete_endpoint(arn: str, owner: str | None = None) -> None:
    """Delete a device's endpoint (SNS answers success for one already gone). With ``owner``, only
    while it is still that student's: if another account registered the same token since (one
    phone, two accounts), the endpoint is theirs now, and deleting it would stop their pushes."""
    client = _client()
    if owner is not None:
        from botocore.exceptions import ClientError

        try:
            attributes = client.get_endpoint_attributes(EndpointArn=arn).get("Attributes", {})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NotFound":
                return
            raise
        if attributes.get("CustomUserData", owner) != owner:
            return
    client.delete_endpoint(EndpointArn=arn)


def message_of(title: str, body: str, data: dict[str, str]) -> str:
    """The SNS message (MessageStructure json): one body per provider, the text as the default."""
    fcm = {"notification": {"title": title, "body": body}, "data": data}
    apns = {"aps": {"alert": {"title": title, "body": body}, "sound": "default"}, **data}
    return json.dumps({"default": body, "GCM": json.dumps(fcm), "APNS": json.dumps(apns),
                       "APNS_SANDBOX": json.dumps(apns)})


def publish(arn: str, title: str, body: str, data: dict[str, str]) -> str:
    """Send one notification to a device; the SNS message id. EndpointGone when the endpoint is
    disabled or deleted; other failures raise botocore's errors for the caller's retry."""
    from botocore.exceptions import ClientError

    try:
        answer = _client().publish(TargetArn=arn, MessageStructure="json", Message=message_of(title, body, data))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in GONE_CODES:
            raise EndpointGone(arn) from exc
        logger.warning("push not sent", extra={"reason": code})
        raise
    return str(answer["MessageId"])
