from django.apps import AppConfig


class CredentialingConfig(AppConfig):
    name = "credentialing"
    navigation = [
        ("credentialing:roster", "Providers", "credentialing:read"),
        ("credentialing:matrix", "Credentialing", "credentialing:read"),
    ]
