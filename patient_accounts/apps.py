from django.apps import AppConfig


class PatientAccountsConfig(AppConfig):
    name = "patient_accounts"

    def ready(self) -> None:
        from patient_accounts import handlers  # noqa: F401  (outbox: ledger sync after posting)
