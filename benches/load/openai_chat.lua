-- wrk script: non-stream /v1/chat/completions against mock-ollama's OpenAI layer (or any
-- OpenAI-compatible server serving llama3.2).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"llama3.2","messages":[{"role":"user","content":"Say something short"}]}'
