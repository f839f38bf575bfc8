"""Rate limits for the endpoints anyone may call (Flask-Limiter, keyed by client address)."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])
