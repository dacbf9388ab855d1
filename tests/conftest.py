"""Shared pytest fixtures: each lives in its own module under tests/ and is registered here."""

pytest_plugins = ["tests.media", "tests.hubs", "tests.fake_tmdb", "tests.server_process", "tests.swarm"]
