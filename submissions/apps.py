from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "submissions"
    navigation = [
        ("batches:list", "Batches", "claims:read"),
        ("batches:rejections", "Rejections", "claims:read"),
        ("batches:eligibility_batches", "Eligibility", "patients:read"),
    ]

    def ready(self) -> None:
        from submissions import handlers  # noqa: F401  (outbox handler: the 837 batch build)
