"""Sending: approved texts go out exactly once, inside the law's hours, at the sender's rate.

`compliance` is the gate asked at build time and at the moment of sending, with the
legal hours from `quiethours`; `dispatch` claims and sends, paced by `ratelimit` and
reported by `pace`; `delivery` reads Twilio's status callbacks; `policy` holds a team's
sending and reply settings and its senders, which `senders` checks before an admin
changes them; `sequences` schedules follow-up touches; `leadership` lets one worker
run the ticker; `sandbox_twilio` stands in for Twilio in the embedded mode. Hands the
conversations it opened to replies.
"""
