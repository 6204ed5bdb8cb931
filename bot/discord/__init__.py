"""The Discord front end (discord.py 2): slash commands, persistent buttons, modals, bands."""
