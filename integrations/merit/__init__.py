"""Merit Aktiva (Estonia), Passeli Merit (Finland) and 360 Księgowość (Poland), API v1."""
