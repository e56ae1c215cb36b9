"""abca-deploy: lifecycle-split deployment for ABCA on Amazon Bedrock AgentCore."""

__version__ = "0.1.0"
