import os

from mesa247 import embedded_postgres

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesa247.settings")
# Without DATABASE_URL, the checkout's embedded PostgreSQL; before the settings read its socket.
embedded_postgres.start_unless_configured()

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
