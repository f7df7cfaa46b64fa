"""Replies: an owner's text comes in, is read, prioritized and answered with a person's approval.

`inbound` stores it once and honours an opt-out before the webhook answers, with
`optout` the one home of consent words; `classify` labels a reply by rules, with the
fields `extraction` finds in it, and `reading` adds Claude; `priority` sets its
priority, bucket and deadline; `personas` holds the voices and `drafting` writes the
draft; `inbox` runs the background reading and what reviewers do with an item, and
`inbox_list` what the inbox page lists and counts; `contacts` keeps an email or phone
given in a reply on the lead. Hands interested owners, converted,
to deals.
"""
