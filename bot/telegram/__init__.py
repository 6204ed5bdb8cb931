"""The Telegram front end (python-telegram-bot 22): translate updates in, render replies out."""
