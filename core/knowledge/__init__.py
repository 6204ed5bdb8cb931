"""The coach's own knowledge: a musician's question answered from the roadmap content.

Full-text search over the synced tasks (their titles, explanations and checklists) behind one
interface, on PostgreSQL's text search or SQLite's FTS5 — no network, no language model. The
query is read the same way on both backends (:mod:`core.knowledge.words`: stop words,
musicians' synonyms, spelling corrected against the content's own vocabulary), so a question
finds the same tasks wherever the coach runs.

This package imports only the database layer: the roadmaps' sync hands it documents to index,
the journey asks it questions.
"""
