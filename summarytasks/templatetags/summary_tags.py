from django import template

from integrations.base import REGISTRY, Capability

register = template.Library()


@register.filter
def has_statistics(vendor: str) -> bool:
    """Whether the vendor `vendor` reads work statistics (for "Reload data" next to a link)."""
    info = REGISTRY.get(vendor)
    return bool(info and info.can(Capability.STATISTICS))
