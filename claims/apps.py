from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"
    navigation = [
        ("claims:charges", "Charges", "claims:read"),
        ("claims:ready_queue", "Ready to bill", "claims:read"),
        ("claims:list", "Claims", "claims:read"),
    ]

    def ready(self) -> None:
        from authorizations.models import UsageSource
        from authorizations.usage_sources import register_source_units
        from claims import handlers  # noqa: F401  (authorizations.coverage_changed)
        from claims.selectors import live_charge_units

        # Usage rows this app records name a charge; authorizations counts them by its units.
        register_source_units(UsageSource.CLAIM, live_charge_units)
