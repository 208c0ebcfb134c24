from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"
    navigation = [("dashboards:dashboard", "Dashboard", "dashboards:read")]
