"""In-app notifications: the inbox. Other packages send through `services.notify`."""
from app.notifications.views import bp

__all__ = ["bp"]
