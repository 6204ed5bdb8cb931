"""Ask the index: the tasks that best answer a question, ranked, on either backend.

One interface, two engines:

* PostgreSQL: ``websearch_to_tsquery('english', …)`` (it never raises on odd input) matched
  against the ``tsvector``, ranked by ``ts_rank_cd`` (cover density) with the title's words
  (weight ``A``) counting 2.5 times the body's (``B``);
* SQLite: FTS5 ``MATCH``, ranked by ``bm25`` with the title column weighted 2.5 times the body.

Both get the same :class:`~core.knowledge.words.Query` (every phrase OR-ed). The musician's own
roadmap is preferred — its tasks' scores count :data:`OWN_ROADMAP` times — because "how do I
get paid for a show" means the band's settlement to a band and the singer's fee to a singer,
but a task of another roadmap that fits much better still comes first. Scores are only
comparable within one backend; callers use the order.

The index holds roadmap content only: nothing a musician typed or stored is ever in it, so a
search cannot show anyone another musician's data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from core.db.executor import Executor
from core.knowledge.index import roadmap_key
from core.knowledge.words import Query, fts5_text, websearch_text

#: How much a task of the musician's own roadmap counts over another roadmap's.
OWN_ROADMAP = 1.6
#: Title words weigh this much more than the explanation's and the checklist's.
TITLE_WEIGHT = 2.5

_PG_SEARCH = text(
    "SELECT s.slug, ts_rank_cd(CAST(:weights AS real[]), s.document, q) * "
    "CASE WHEN s.roadmap_id = :prefer THEN CAST(:boost AS real) ELSE CAST(1 AS real) END "
    "AS score FROM task_search AS s, websearch_to_tsquery('english', :q) AS q "
    "WHERE s.document @@ q "
    "ORDER BY score DESC, s.slug LIMIT :n"
)
_SQLITE_SEARCH = text(
    "SELECT slug, -bm25(task_search, 0.0, 0.0, :title_weight, 1.0) * "
    "CASE WHEN roadmap_id = :prefer THEN :boost ELSE 1.0 END AS score "
    "FROM task_search WHERE task_search MATCH :q "
    "ORDER BY score DESC, slug LIMIT :n"
)
#: ``ts_rank_cd``'s weights, in the order D, C, B, A.
_PG_WEIGHTS = [0.1, 0.2, 1.0 / TITLE_WEIGHT, 1.0]


@dataclass(frozen=True, slots=True)
class Hit:
    """A task that answers the question, and its score (higher is better, this backend)."""

    slug: str
    score: float


async def search(
    ex: Executor, query: Query, *, prefer: uuid.UUID | None = None, limit: int = 3
) -> list[Hit]:
    """The ``limit`` best tasks for ``query``, best first; none for an empty query."""
    if not query:
        return []
    prefer_key = roadmap_key(ex, prefer)
    if ex.dialect == "postgresql":
        rows = await ex.rows(
            _PG_SEARCH,
            {
                "weights": _PG_WEIGHTS,
                "prefer": prefer_key,
                "boost": OWN_ROADMAP,
                "q": websearch_text(query),
                "n": limit,
            },
        )
    else:
        rows = await ex.rows(
            _SQLITE_SEARCH,
            {
                "title_weight": TITLE_WEIGHT,
                "prefer": prefer_key,
                "boost": OWN_ROADMAP,
                "q": fts5_text(query),
                "n": limit,
            },
        )
    return [Hit(slug=str(slug), score=float(score)) for slug, score in rows]
