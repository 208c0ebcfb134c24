"""HL7 v2 over HTTPS (`hl7:write`): POST one message as the body, get its ACK back as the body.

The HTTP status is 200 whenever an ACK answers (AA, AE or AR: the ACK says which, and the
`X-HL7-Ack-Code` header repeats it); authentication and scope refusals are problem+json as
everywhere in the API.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, parsers, viewsets
from rest_framework.request import Request

from interfaces import services
from interfaces.models import Channel
from rcm.tenancy.http import request_now, request_today, scopes_of

HL7_MEDIA_TYPE = "application/hl7-v2"
# One message: an ADT or a DFT with a few dozen FT1 segments is a few kilobytes.
MAX_BYTES = 1_000_000


class _TextParser(parsers.BaseParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> str:
        data = stream.read(MAX_BYTES + 1) if stream is not None else b""
        if len(data) > MAX_BYTES:
            raise exceptions.ParseError("The message is larger than 1 MB.")
        try:
            return str(data.decode("utf-8"))
        except UnicodeDecodeError:
            # HL7 v2's default character set is ISO 8859-1 (MSH-18 empty).
            return str(data.decode("latin-1"))


class Hl7Parser(_TextParser):
    media_type = HL7_MEDIA_TYPE


class Hl7Er7Parser(_TextParser):
    media_type = "x-application/hl7-v2+er7"


class PlainTextParser(_TextParser):
    media_type = "text/plain"


EXAMPLE = (
    "MSH|^~\\&|EHR|CLINIC|PARITY|RIVERBEND|20261201090000||DFT^P03|MSG00001|P|2.5.1\r"
    "PID|1||C-1^^^CLINIC^MR||Doe^Jane||19800501|F\r"
    "FT1|1|||20261130090000^20261130095500||CG|90837^Psychotherapy 60 min^CPT|||1"
    "||||||||||1234567893^Park^Lena||||||95\r"
    "DG1|1||F33.1^Major depressive disorder, recurrent, moderate^I10\r"
)


class Hl7MessageViewSet(viewsets.GenericViewSet):
    """Receive one HL7 v2 message (ADT^A04/A08/A28/A31, DFT^P03)."""

    required_scopes = {"POST": "hl7:write"}
    parser_classes = [Hl7Parser, Hl7Er7Parser, PlainTextParser]

    @extend_schema(
        operation_id="hl7_messages_create",
        summary="Send one HL7 v2 message; the answer is its ACK",
        request={HL7_MEDIA_TYPE: OpenApiTypes.STR, "text/plain": OpenApiTypes.STR},
        responses={
            (200, HL7_MEDIA_TYPE): OpenApiResponse(
                response=OpenApiTypes.STR,
                description=(
                    "The ACK (MSA-1 AA, AE or AR; ERR names the segment and field of an AE/AR). "
                    "A message control id (MSH-10) already received gets its original ACK."
                ),
            ),
        },
        examples=[OpenApiExample("DFT^P03", value=EXAMPLE, request_only=True)],
    )
    def create(self, request: Request) -> HttpResponse:
        body = request.data if isinstance(request.data, str) else ""
        receipt = services.hl7_receive(
            raw=body,
            channel=Channel.HTTPS,
            scopes=scopes_of(request),
            today=request_today(request),
            now=request_now(request),
        )
        response = HttpResponse(receipt.ack, content_type=f"{HL7_MEDIA_TYPE}; charset=utf-8")
        response["X-HL7-Ack-Code"] = receipt.code
        return response


def register(router: Any) -> None:
    router.register("hl7/messages", Hl7MessageViewSet, basename="hl7-message")
