"""Document schema shared by the demo Executors (docarray v2).

One schema serves image and text search so that the wire format the load generator sends
(`tensor` or `text`, plus an `id`) is the same for both Flows.
"""
from typing import Optional

from docarray import BaseDoc, DocList
from docarray.typing import NdArray


class MatchDoc(BaseDoc):
    """One search hit: the indexed doc's id, its similarity score (cosine, higher is closer)
    and the indexer shard that holds it (so that clients can see results come from every
    shard: `--match-field shard`)."""

    score: float = 0.0
    shard: int = 0


class LoadDoc(BaseDoc):
    """A document under load: an image `tensor` or a `text`, its `embedding` and `matches`."""

    text: Optional[str] = None
    tensor: Optional[NdArray] = None
    embedding: Optional[NdArray] = None
    matches: Optional[DocList[MatchDoc]] = None
