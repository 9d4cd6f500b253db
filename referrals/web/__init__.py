"""Blueprints per audience. Views parse input, call one service, and render or redirect."""
