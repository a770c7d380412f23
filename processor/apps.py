from django.apps import AppConfig


class ProcessorConfig(AppConfig):
    name = "processor"
    verbose_name = "Processor events"

    def ready(self):
        from . import checks  # noqa: F401  (registers the signing-secret check)
        from .integrity import event_checks_register

        event_checks_register()
