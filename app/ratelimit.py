"""Rate limits for the endpoints anyone may call (Flask-Limiter, keyed by client address)."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# One limiter per process: each gateway process serves one app (tests build several apps in one process and share
# it, which is harmless: a limit's counters are keyed by the limit itself).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
