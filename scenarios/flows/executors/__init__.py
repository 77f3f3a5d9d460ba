"""The demo Flow's Executors; Flow YAML loads this package through ``py_modules``."""
from .encoder import RandomProjectionEncoder
from .indexer import NumpyIndexer
from .ranker import TopKRanker

__all__ = ['NumpyIndexer', 'RandomProjectionEncoder', 'TopKRanker']
