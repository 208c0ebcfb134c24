from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "rcm.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from rcm.tenancy import checks, handlers  # noqa: F401  (system check, outbox handlers)
