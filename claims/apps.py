from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"
    navigation = [
        ("claims:charges", "Charges", "claims:read"),
        ("claims:ready_queue", "Ready to bill", "claims:read"),
        ("claims:list", "Claims", "claims:read"),
        ("batches:list", "Batches", "claims:read"),
        ("batches:rejections", "Rejections", "claims:read"),
    ]

    def ready(self) -> None:
        from claims import handlers  # noqa: F401  (authorizations.coverage_changed)
