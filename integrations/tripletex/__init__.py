"""Tripletex (Norwegian accounting system): the adapter (`adapter.TripletexAdapter`), the one HTTP
seam to the Tripletex API v2 (`client.TripletexClient`) and the emulator used in tests and demos
(`sandbox`)."""
