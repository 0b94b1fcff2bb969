"""A local SonarQube web API for tests: `with FakeSonar(...) as sonar: sonar.url`."""

from tests.fakesonar.server import FakeSonar, SonarProject

__all__ = ["FakeSonar", "SonarProject"]
