"""Milestones (issue #14 §3b): moments worth a word, found in the events outbox.

* :mod:`.detect` — pure: an event → the milestone keys it reaches (``metric:<m>:1000``,
  ``first-paid-gig``, ``goal:…``, ``stage:<slug>``, ``roadmap:<slug>``, ``release-day:<date>``),
  and which of the new ones the musician is told of.
* :mod:`.words` — what the notice and the band channel's line say.
* :mod:`.store` — the statements: the per-profile head claim (order per profile, one worker per
  profile; the proof is there), the ``milestones`` insert that is the idempotency key, the
  delivery reservation, marking events processed, release days.
* :mod:`.consumer` — the background job that drains the outbox (``milestones`` on the runner).

Decisions (docs/coaching.md, "Milestones"): a goal met, a stage and a roadmap completed are
celebrated by the reply to the musician's own message, so the consumer records them silently;
it sends the notice only for what no reply celebrated (thresholds, the first paid gig, release
day). A band whose managers switched ``/band milestones on`` hears of every milestone of the
band in its updates channel.
"""
