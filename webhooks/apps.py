from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    navigation = [("webhooks:list", "Webhooks", "org:admin")]

    def ready(self) -> None:
        from webhooks import handlers  # noqa: F401  (outbox: deliveries and event subscriptions)
