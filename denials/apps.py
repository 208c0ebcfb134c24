from django.apps import AppConfig


class DenialsConfig(AppConfig):
    name = "denials"
    navigation = [
        ("denials:queue", "Work queue", "denials:read"),
        ("denials:remittances", "Remittance", "denials:read"),
        ("denials:parity", "Parity review", "denials:read"),
    ]

    def ready(self) -> None:
        from denials import handlers  # noqa: F401  (outbox handler: 835 posting)
