"""A local Amazon Bedrock AgentCore emulator (control and data planes) that runs agents as real containers.

It also serves Route 53 Resolver's DNS Firewall calls (JSON 1.1), which moto lacks.

See ``docs/emulator.md``. In-process use: ``server.EmulatorServer``; as a process:
``python -m abca_deploy.sandbox.emulator --registry 127.0.0.1:PORT``.
"""
