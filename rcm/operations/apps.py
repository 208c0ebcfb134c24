from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "rcm.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from rcm.operations import handlers  # noqa: F401  (outbox handler: scan runs)
