from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    navigation = [
        ("patients:list", "Patients", "patients:read"),
        ("patients:payers", "Payers", "patients:read"),
    ]
