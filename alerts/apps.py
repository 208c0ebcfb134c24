from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    navigation = [("alerts:inbox", "Alerts", "")]

    def ready(self) -> None:
        from alerts import handlers  # noqa: F401  (outbox handler: alert emails)
