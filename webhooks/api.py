"""Webhooks on the API (`webhooks:write`, owners' and API keys' scope): endpoints (the secret is
in the create response only), sending a test event, the delivery log, redelivery."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from rcm import part2
from rcm.api import uuid_query_param
from rcm.tenancy.http import request_now, scopes_of
from webhooks import selectors, services
from webhooks.events import EVENT_TYPES
from webhooks.models import WebhookDelivery, WebhookEndpoint

SCOPES = dict.fromkeys(("GET", "HEAD", "OPTIONS", "POST"), "webhooks:write")


class EndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "disabled_reason",
            "failing_since",
            "part2_allowed",
            "created_at",
        ]
        read_only_fields = fields


class CreatedEndpointSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret (whsec_…): in this response only."
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=500, help_text="HTTPS; private, loopback and link-local addresses are refused."
    )
    description = serializers.CharField(max_length=200, required=False, default="")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)), min_length=1, max_length=20
    )


class DeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.SerializerMethodField()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "webhook_id",
            "event_type",
            "payload",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "last_attempt_at",
            "delivered_at",
            "next_try_at",
            "part2",
            "created_at",
        ]
        read_only_fields = fields

    def get_webhook_id(self, obj: WebhookDelivery) -> str:
        return f"msg_{obj.event_id.hex}"


class EndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Webhook endpoints. Create answers with the signing secret, once."""

    serializer_class = EndpointSerializer
    required_scopes = SCOPES
    lookup_field = "pk"

    def get_queryset(self) -> Any:
        return selectors.endpoint_list(search="")

    @extend_schema(request=EndpointInputSerializer, responses={201: CreatedEndpointSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = EndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.endpoint_create(**data.validated_data)
        body = EndpointSerializer(created.endpoint).data | {"secret": created.secret}
        response = Response(body, status=201)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=None, responses={201: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        """Send a `webhook.test` event to this endpoint."""
        endpoint = self.get_object()
        delivery = services.endpoint_send_test(endpoint_id=endpoint.pk, now=request_now(request))
        return Response(DeliverySerializer(delivery).data, status=201)


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log, newest first; `?endpoint=<id>` for one endpoint's."""

    serializer_class = DeliverySerializer
    required_scopes = SCOPES
    lookup_field = "pk"

    def get_queryset(self) -> Any:
        endpoint_id = uuid_query_param(self.request, "endpoint")
        qs = WebhookDelivery.objects.order_by("-created_at", "-sequence", "-pk")
        qs = part2.visible(qs, scopes_of(self.request))
        return qs.filter(endpoint_id=endpoint_id) if endpoint_id else qs

    @extend_schema(parameters=[OpenApiParameter("endpoint", str, description="An endpoint's id.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str) -> Response:
        """Send this event again now, with the same `webhook-id`."""
        delivery = services.delivery_redeliver(
            delivery_id=self.get_object().pk, now=request_now(request)
        )
        return Response(DeliverySerializer(delivery).data)


def register(router: Any) -> None:
    router.register("webhooks/endpoints", EndpointViewSet, basename="webhook-endpoint")
    router.register("webhooks/deliveries", DeliveryViewSet, basename="webhook-delivery")
