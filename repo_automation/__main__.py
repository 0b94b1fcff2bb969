from repo_automation.cli import main

raise SystemExit(main())
