"""The demo centre: `flask demo load` fills an empty database with a living contact centre.

Each capability adds its part here, through its own services, so that `make run` shows it in use.
"""
