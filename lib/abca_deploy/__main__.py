from abca_deploy.cli import main

raise SystemExit(main())
