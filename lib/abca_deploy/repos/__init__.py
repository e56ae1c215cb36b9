"""Repository onboarding: rows of ABCA's repo table, written exactly as the CDK ``Blueprint`` construct would.

``schema`` (the row and its DynamoDB types) and ``validate`` (Blueprint and runtime rules) are pure; ``plan``
decides what a command changes; ``writes`` turns a plan into conditional DynamoDB requests; ``table`` and
``tokens`` are the adapters; ``commands`` wires them to the CLI.
"""
