from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"
    navigation = [
        ("claims:charge_entry", "Charges", "claims:write"),
        ("claims:ready_queue", "Ready to bill", "claims:read"),
        ("claims:list", "Claims", "claims:read"),
    ]
