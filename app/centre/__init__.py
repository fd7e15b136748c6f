"""The centre's own settings that every capability shares: its name and its time zone."""
