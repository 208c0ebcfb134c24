from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "submissions"
    navigation = [
        ("batches:list", "Batches", "claims:read"),
        ("batches:rejections", "Rejections", "claims:read"),
    ]
