"""Batch prediction: every file under a folder → one JSON line (or CSV row) of top-k labels, in process or on Beam."""
