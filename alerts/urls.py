from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<uuid:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<uuid:pk>/snooze/", views.snooze, name="snooze"),
]
