"""RagRec: a graph-native recommendation system for online retail."""

__version__ = "0.1.0"
