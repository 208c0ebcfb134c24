from django.apps import AppConfig


class DenialsConfig(AppConfig):
    name = "denials"
    navigation: list[tuple[str, str, str]] = []

    def ready(self) -> None:
        from denials import handlers  # noqa: F401  (outbox handler: 835 posting)
