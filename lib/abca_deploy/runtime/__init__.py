"""Publishing the AgentCore runtime: plan, build and push, update, wait, smoke-test, roll back."""
