"""The address a request came from, as far as the deployment's own proxies can vouch for it.

Without proxies (TRUSTED_PROXY_COUNT=0) it is REMOTE_ADDR: X-Forwarded-For is whatever the client
wrote. Behind N proxies that each append the address they saw to X-Forwarded-For, the N-th entry
from the right is the one the outermost proxy saw; entries left of it are the client's own words.
A request that did not come through all N proxies (fewer entries) falls back to REMOTE_ADDR.
"""

from django.conf import settings


def client_address(request) -> str:
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote_addr
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote_addr
    return forwarded[-proxies]
