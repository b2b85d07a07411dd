"""Homework: answers files, checking, explanations; they read quantities, never the layout."""
