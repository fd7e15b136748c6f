"""What gunicorn and `flask` load: `gunicorn wsgi:app`."""
import gc

from app import create_app

app = create_app()
# what start-up made lives as long as the worker: keep it out of the garbage collector's full
# passes (they would otherwise pause requests for tens of milliseconds)
gc.freeze()
