"""Screens of the terminal client: one per file; modal screens are typed by their result."""
