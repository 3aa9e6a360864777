-- wrk script: /v1/responses against mock-ollama's exact flavour (or any server of the Responses
-- API serving llama3.2); STREAM=1 asks for the SSE events.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local stream = os.getenv("STREAM") == "1" and "true" or "false"
wrk.body = '{"model":"llama3.2","input":"Say something short","stream":' .. stream .. '}'
