"""Deploy gates: which lifecycles a git range touches (``changes``), and whether a ``cdk deploy`` would
revert the CI-published runtime image (``drift``)."""
