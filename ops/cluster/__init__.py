"""The cluster check's parts (`make cluster-check`, ops/cluster_check.py)."""
