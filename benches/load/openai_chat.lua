-- wrk script: /v1/chat/completions against mock-ollama's OpenAI layer (or any OpenAI-compatible
-- server serving llama3.2); STREAM=1 asks for the SSE chunks.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local stream = os.getenv("STREAM") == "1" and "true" or "false"
wrk.body = '{"model":"llama3.2","stream":' .. stream .. ',"messages":[{"role":"user","content":"Say something short"}]}'
