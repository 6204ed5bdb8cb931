"""Front ends ("adapters"): each translates its platform to the core's Inbound/Outbound."""
