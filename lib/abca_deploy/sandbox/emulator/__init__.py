"""A local Amazon Bedrock AgentCore emulator (control and data planes) that runs agents as real containers.

See ``docs/emulator.md``. In-process use: ``server.EmulatorServer``; as a process:
``python -m abca_deploy.sandbox.emulator --registry 127.0.0.1:PORT``.
"""
