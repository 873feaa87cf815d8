"""What every request and process stands on: settings, database plumbing, jobs, mail, caches, logs,
probes."""
