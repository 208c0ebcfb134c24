from django.apps import AppConfig


class PatientAccountsConfig(AppConfig):
    name = "patient_accounts"
    navigation = [
        ("patient_accounts:statements", "Statements", "patient_accounts:read"),
        ("patient_accounts:small_balances", "Small balances", "patient_accounts:read"),
        ("patient_accounts:placements", "Collections", "patient_accounts:read"),
    ]

    def ready(self) -> None:
        from patient_accounts import handlers  # noqa: F401  (outbox: ledger sync, statement runs)
