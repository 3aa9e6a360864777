-- wrk script: /v1/messages against mock-ollama (or any server of Anthropic's Messages API serving
-- llama3.2); STREAM=1 asks for the SSE events.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = "sk-ant-bench"
wrk.headers["anthropic-version"] = "2023-06-01"
local stream = os.getenv("STREAM") == "1" and "true" or "false"
wrk.body = '{"model":"llama3.2","max_tokens":256,"stream":' .. stream .. ',"messages":[{"role":"user","content":"Say something short"}]}'
