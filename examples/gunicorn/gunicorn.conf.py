# Read by `gunicorn app:app` run from this directory. Add --preload on the command line to
# import app.py once in the master (collector_ffi is fork-safe, so both ways work).
#
# No post_fork / post_worker_init hook is needed to set up tracing: a collector started in
# the master is replaced by a fresh one in each worker on first use, and the SDK's batch
# processor restarts its thread after fork. No worker_exit hook either: workers leave
# through sys.exit, so atexit flushes the TracerProvider and shuts the collector down.
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# How long the master waits for workers after SIGTERM before it SIGKILLs them (losing what
# they still hold). Keep it above collector_ffi's 5 s exit bound plus a request's time.
graceful_timeout = 30
