-- wrk script: non-stream /api/chat against mock-ollama (or anything speaking Ollama's API).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"Say something short"}]}'
