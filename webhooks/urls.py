from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("add/", views.endpoint_add, name="add"),
    path("<uuid:pk>/", views.endpoint_detail, name="detail"),
    path("<uuid:pk>/test/", views.send_test, name="send_test"),
    path("<uuid:pk>/enable/", views.enable, name="enable"),
    path("<uuid:pk>/part2/", views.part2_setting, name="part2"),
    path("deliveries/<uuid:pk>/redeliver/", views.redeliver, name="redeliver"),
]
