"""Whether a text holds something shaped like a credential, and the text with such parts hidden, so that no
error message, log line or API answer ever echoes a token. Standard library only (the API handler imports it
on its request path, without pydantic)."""

from __future__ import annotations

import re

# Known credential shapes (GitHub, GitLab, Slack, AWS access and secret keys, API keys, JWTs), and any
# unbroken run of 32+ token characters mixing upper case, lower case and digits: never echoed in an error.
_CREDENTIAL = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w-]{20,}|xox[abprs]-[\w-]{10,}"
    r"|\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b|\bsk-[\w-]{20,}|eyJ[\w-]{10,}\.eyJ[\w-]{10,}"
    r"|(?<![\w+/=])(?=[\w+/=]{0,39}[0-9])(?=[\w+/=]{0,39}[a-z])(?=[\w+/=]{0,39}[A-Z])[A-Za-z0-9+/]{40}(?![\w+/=])"
    r"|(?<![\w+=-])(?=[\w+=-]*[0-9])(?=[\w+=-]*[a-z])(?=[\w+=-]*[A-Z])[\w+=-]{32,}"
)


def looks_like_credential(text: str) -> bool:
    """Whether ``text`` contains something shaped like a token, key or password (so it is never echoed)."""
    return _CREDENTIAL.search(text) is not None


def redact_credentials(text: str) -> str:
    """``text`` with every credential-looking part replaced by ``***``."""
    return _CREDENTIAL.sub("***", text)
