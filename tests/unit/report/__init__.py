"""Tests of the renderers, report writers and the runner contract."""
