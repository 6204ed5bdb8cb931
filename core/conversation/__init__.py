"""The conversation engine: border types, markup, button payloads, command routing, ``handle``."""
