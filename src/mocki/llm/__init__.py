"""Chat LLM access: one Protocol, the OpenAI-compatible client, the packaged local model."""
