"""The project's own corpora.

:mod:`corpora.generate` makes a seeded synthetic subscription business (customer
table + feedback from reviews, tickets and NPS surveys) with planted theme effects
on churn, NPS and CLV and writes the truth next to the data; see ``README.md``.
"""
