from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "rcm.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        # System check, outbox handlers, and the sign-in receiver of the two-factor state.
        from rcm.tenancy import checks, handlers, two_factor  # noqa: F401
