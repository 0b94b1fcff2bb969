"""A local OSV-compatible server for the scanner tests and the scan benchmark."""

from tests.fakeosv.server import FakeOSV, load_records

__all__ = ["FakeOSV", "load_records"]
