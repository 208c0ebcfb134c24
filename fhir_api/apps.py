from django.apps import AppConfig


class FhirApiConfig(AppConfig):
    name = "fhir_api"
    verbose_name = "FHIR R4 API"

    def ready(self) -> None:
        from fhir_api import handlers  # noqa: F401  (outbox: bulk export runs)
