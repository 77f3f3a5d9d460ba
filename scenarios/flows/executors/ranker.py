"""TopKRanker: merges the partial results of a sharded indexer.

With ``shards > 1`` and ``/search: ALL`` polling, every shard answers each query with its own
``top_k`` matches and the head concatenates the shards' replies (each query doc appears once
per shard). Run as the indexer's ``uses_after``, this Executor merges the copies of each
query doc and keeps the best ``top_k`` matches by descending score, so clients get one doc
per query with exactly ``top_k`` matches.
"""
from docarray import DocList
from jina import Executor, requests

from .schema import LoadDoc, MatchDoc


class TopKRanker(Executor):
    """Merges the copies of each doc (by id, first-seen order), sorts their matches by score
    (descending) and keeps ``top_k``."""

    def __init__(self, default_top_k: int = 10, **kwargs):
        super().__init__(**kwargs)
        self._default_top_k = int(default_top_k)

    @requests(on='/search')
    def rank(self, docs: DocList[LoadDoc], parameters: dict, **kwargs) -> DocList[LoadDoc]:
        top_k = int((parameters or {}).get('top_k', self._default_top_k))
        merged = {}
        for doc in docs:
            if doc.id not in merged:
                merged[doc.id] = (doc, list(doc.matches or ()))
            else:
                merged[doc.id][1].extend(doc.matches or ())
        for doc, matches in merged.values():
            doc.matches = DocList[MatchDoc](sorted(matches, key=lambda m: m.score, reverse=True)[:top_k])
        return DocList[LoadDoc]([doc for doc, _ in merged.values()])
