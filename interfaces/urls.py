from django.urls import path

from interfaces import views

app_name = "interfaces"
mount_path = "hl7/"

urlpatterns = [
    path("exceptions/", views.held_list, name="held"),
    path("exceptions/<uuid:pk>/", views.held_detail, name="held_detail"),
    path("exceptions/<uuid:pk>/retry/", views.held_retry, name="held_retry"),
    path("exceptions/<uuid:pk>/dismiss/", views.held_dismiss, name="held_dismiss"),
]
