"""Fixtures shared by the integration tests that walk every route."""

from tests.route_walk import world  # noqa: F401 - a fixture, found by pytest through this import
