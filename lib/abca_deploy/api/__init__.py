"""The repository API: ``/v1/repos`` on ABCA's REST API, another front door to the ``repos`` core.

``handler.handler`` is the Lambda entry point (API Gateway proxy events in, ABCA-shaped responses out).
It owns HTTP only: authentication context, request parsing, status codes and the envelope. Validation,
guardrails, plans, conditional writes and token storage are ``abca_deploy.repos``'s, the code the CLI runs.
``openapi.yaml`` (package data) is the contract; the tests check the handler against it.
"""
