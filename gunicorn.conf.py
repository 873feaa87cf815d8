"""gunicorn reads ./gunicorn.conf.py by itself, so `gunicorn app:app` run from the project root
checks the configuration and waits for the database in the master, before any worker starts
(forum/platform/startup.py). Done in a hook instead, the check would come after gunicorn's own
"Starting gunicorn" line; done only in the workers, a bad setting would end in gunicorn's
"Worker failed to boot" and exit code 3 instead of one line naming the variable and exit 2.

Settings stay on the command line (-w, -b, -k), so this file only adds the check."""

from forum.platform import startup

startup.preflight()
