from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Developer tools (demo seeding, the benchmark): the top floor, free to use every app below it."""

    name = "devtools"
    verbose_name = "Developer tools"
