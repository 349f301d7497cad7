"""Governance: the AI register, policies as code, promotion requests and approvals, model
cards and the compliance pack."""
