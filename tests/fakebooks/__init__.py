"""Fakebooks: a made-up accounting system registered in the test settings only.

It proves the core is vendor-neutral: it connects with an API ID (shown back) and an API key
(secret), on country instances, with credentials that never expire, and it can do nothing else
(no capabilities), so no tab, route or job kind of any capability exists for it.
"""
