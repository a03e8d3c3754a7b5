"""Which address a request came from, when it may have passed through a reverse proxy.

Behind a proxy every request arrives from the proxy's address. A limit counted per address
(the REST channel's per-IP rate limit, the portal's sign-in throttling) then counts every
visitor as one: a single abuser gets everyone refused, a patient typing a red flag
included (issue 26). X-Forwarded-For names the real client, but anyone can send that
header, so it is believed only from a proxy the deployment names:

    RASA_TRUSTED_PROXIES     the Rasa servers (or trusted_proxies in the REST channel's
                             credentials entry; channels/input_limits.py)
    PORTAL_TRUSTED_PROXIES   the staff portal (portal/config.py)

Each is a comma-separated list of IP addresses, or "none": clients connect directly, no
forwarded header is believed. In production mode a process refuses to start with its
setting unset (security/production_settings.py): forgetting it must not look like "none".

Pure: no Rasa, no Sanic. Used by channels/ and portal/ alike.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

NO_PROXY = "none"


class ProxySettingError(ValueError):
    """A trusted-proxies value that is not a list of IP addresses or "none"."""


def parse_proxies(value: None | str | Iterable[str]) -> frozenset[str]:
    """ "10.0.0.1, 10.0.0.2", a list, "none" or nothing -> the set of proxy addresses."""
    if not value:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    items = [item.strip() for item in items if item.strip()]
    if [item.lower() for item in items] == [NO_PROXY]:
        return frozenset()
    proxies = set()
    for item in items:
        try:
            proxies.add(str(ipaddress.ip_address(item)))
        except ValueError:
            raise ProxySettingError(
                f"{item!r} is not an IP address (give addresses separated by commas, or {NO_PROXY!r})"
            ) from None
    return frozenset(proxies)


def client_address(peer: str, forwarded_for: str | None, trusted_proxies: frozenset[str]) -> str:
    """The client's address. X-Forwarded-For is believed only when the request comes from a
    trusted proxy; then the right-most address that is not a trusted proxy is the client
    (entries to its left were written by the client itself, and can say anything)."""
    if peer not in trusted_proxies or not forwarded_for:
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        if hop and hop not in trusted_proxies:
            return hop
    return peer


def unset_or_invalid(name: str, value: str | None) -> str | None:
    """For production mode: why this setting cannot be used as it is, or None."""
    if value is None or not str(value).strip():
        return (
            f"{name} is not set: behind a reverse proxy or load balancer every visitor would share "
            f"the proxy's address in the per-address limits. Set it to the proxy's address "
            f"(comma-separated for several), or to {NO_PROXY!r} when clients connect directly."
        )
    try:
        parse_proxies(value)
    except ProxySettingError as problem:
        return f"{name}: {problem}."
    return None
