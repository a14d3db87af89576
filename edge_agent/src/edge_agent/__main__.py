"""`python -m edge_agent`: the command line (edge_agent.cli)."""

from edge_agent.cli import main

raise SystemExit(main())
