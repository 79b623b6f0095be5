"""Offline evaluation: splits that cannot leak, a throwaway Neo4j, baselines, metrics."""
