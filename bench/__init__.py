"""Showboard's load and scale benchmarks (not tests): `python -m bench --help`.

dataset.py builds the databases with the app's own CLI, servers.py runs gunicorn, load.py drives
the read pages with wrk, writes.py replies through the real form and checks nothing was lost,
profile.py samples a worker with py-spy, report.py prints the table and writes the JSON.
"""
