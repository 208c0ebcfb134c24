from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    navigation = [
        ("patients:list", "Patients", "patients:read"),
        ("patients:payers", "Payers", "patients:read"),
    ]

    def ready(self) -> None:
        from patients import handlers  # noqa: F401  (registers the scheduled scans)
