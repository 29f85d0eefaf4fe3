"""Date, time and number formats per language (Django's FORMAT_MODULE_PATH).

Django's own English formats are American (month first, "p.m."); uku's English is European:
day first and 24-hour, so an English and a Norwegian user read the same date the same way. The
first DATE_INPUT_FORMATS entry is also the one date fields are rendered in, so forms round-trip
what they show; ISO dates stay accepted for scripts and pasted values.
"""
