from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"
    navigation: list[tuple[str, str, str]] = []
