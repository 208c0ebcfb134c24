from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    navigation = [("reconciliation:queues", "Reconciliation", "denials:read")]

    def ready(self) -> None:
        from reconciliation import handlers  # noqa: F401  (outbox: match ERAs once they post)
