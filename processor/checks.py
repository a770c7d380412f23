from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security)
def webhook_secret_configured(app_configs, **kwargs):
    """Refuse to start in production without a way to authenticate the processor."""
    if settings.PROCESSOR_WEBHOOK_SECRETS or settings.DEBUG:
        return []
    return [
        Error(
            "PROCESSOR_WEBHOOK_SECRETS is empty while DEBUG is off: processor events could not be authenticated.",
            hint="Set PROCESSOR_WEBHOOK_SECRETS to the processor's signing secret(s), comma-separated.",
            id="processor.E001",
        )
    ]
