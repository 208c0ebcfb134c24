from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "rcm.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from rcm.audit import receivers  # noqa: F401  (sign-in / sign-out events)
        from rcm.audit.reads import connect_collectors

        connect_collectors()
