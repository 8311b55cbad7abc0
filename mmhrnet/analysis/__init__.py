"""Measurement of the product rooms, kept apart from them: the end-to-end pipeline benchmark
(:mod:`.pipeline_bench`)."""
