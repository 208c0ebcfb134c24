from django.apps import AppConfig


class AuthorizationsConfig(AppConfig):
    name = "authorizations"
    navigation = [
        ("authorizations:list", "Authorizations", "authorizations:read"),
        ("authorizations:calendar", "Reviews", "authorizations:read"),
    ]

    def ready(self) -> None:
        from authorizations import handlers  # noqa: F401  (authorization_needed, scan)
