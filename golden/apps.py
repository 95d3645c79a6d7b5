from django.apps import AppConfig


class GoldenConfig(AppConfig):
    name = "golden"
    verbose_name = "Master data"
