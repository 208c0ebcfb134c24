from django.apps import AppConfig


class CredentialingConfig(AppConfig):
    name = "credentialing"
    navigation = [
        ("credentialing:roster", "Providers", "credentialing:read"),
        ("credentialing:matrix", "Credentialing", "credentialing:read"),
    ]

    def ready(self) -> None:
        from credentialing import handlers  # noqa: F401  (the daily scan, rcm.operations)
