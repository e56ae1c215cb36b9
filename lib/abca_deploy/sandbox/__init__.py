"""The local sandbox: moto server, an OCI registry, and the AgentCore emulator running real containers."""
