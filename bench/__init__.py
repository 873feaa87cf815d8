"""Showboard's load and scale benchmarks (not tests): `python -m bench --help`.

dataset.py    builds the databases with the app's own CLI and finds the URLs worth loading
servers.py    runs gunicorn (Showboard, or hello.py: the ceiling) and stops it, whatever happens
client.py     a logged-in HTTP client from the standard library (cookies, CSRF tokens)
load.py       wrk against each page: anonymous, anonymous with a cache miss, logged in
writes.py     replies through the real form, then checks none was lost and counters are exact
finale.py     anonymous reads during those replies, counting cache hits (cachestats.lua)
ablations.py  what each optimisation saves: the query a page runs against the one it replaced
profile.py    py-spy samples of the thread page and of replies, summarised by step
report.py     Markdown tables, targets PASS/FAIL, bench/results/<timestamp>.json
inprocess.py  CPU a request through Flask's test client, for one change before and after
"""
