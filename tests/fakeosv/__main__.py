"""`python -m tests.fakeosv [--records FILE]`: the OSV test server in its own process."""

from tests.fakeosv.server import main

main()
