"""Who and from where, read from a request at the edge (API views, the admin, sign-in receivers).

Services take these as plain values (`actor`, `actor_label`, `address`) and know nothing of HTTP.
"""

import ipaddress

from mesa247.client_address import client_address


def request_address(request) -> str | None:
    """The client's address (REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies their X-Forwarded-For,
    as the sign-in lockout reads it), or None when it is not an IP address."""
    address = client_address(request) if request is not None else None
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def audit_origin(request) -> dict:
    """`actor`, `actor_label` and `address` of a request, ready to pass to a service as keywords.

    A request authenticated by a named API token is labelled "token:<name>" (the user stays the actor).
    """
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    token_name = getattr(getattr(request, "auth", None), "name", None)
    label = f"token:{token_name}" if actor is not None and isinstance(token_name, str) and token_name else None
    return {"actor": actor, "actor_label": label, "address": request_address(request)}
