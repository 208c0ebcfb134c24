from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("claims/", views.drilldown, name="drilldown"),
    path("unbilled-days/", views.unbilled_days, name="unbilled_days"),
]

# Outside any organization: the billing company's view across its organizations.
site_urlpatterns = [path("portfolio/", views.portfolio, name="portfolio")]
