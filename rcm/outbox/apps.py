from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "rcm.outbox"
    label = "outbox"
    verbose_name = "Outbox"
