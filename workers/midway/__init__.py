"""Midway monitoring: between reviews, the IRO checks that the review's decisions are carried out
(IRO annual report 2013-14 §7.3, §8.1). A check falls due part-way (rules.yaml ``midway``) between
a review held and the next one due; the IRO is reminded, records it, and may escalate a concern."""
