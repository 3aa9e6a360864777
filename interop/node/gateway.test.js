// The official `openai` Node SDK against the gateway binary (embedded mock Ollama + fixtures).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import OpenAI from 'openai';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
let gateway;
let client;

before(async () => {
  const env = { ...process.env, RUST_LOG: 'info' };
  delete env.OLLAMA_HOST;
  delete env.GATEWAY_CONFIG;
  gateway = spawn(path.join(target, 'debug', 'gateway'),
    ['--listen', '127.0.0.1:0', '--mock-fixtures', path.join(root, 'fixtures', 'scenarios')],
    { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gateway did not report its address')), 30000);
    let seen = '';
    gateway.stderr.on('data', (data) => {
      seen += data.toString();
      const match = seen.match(/listening on (http:\/\/\S+)/);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    });
    gateway.on('exit', (code) => reject(new Error(`gateway exited with ${code}: ${seen}`)));
  });
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(() => gateway?.kill('SIGTERM'));

const ask = (content) => [{ role: 'user', content }];

test('non-stream completion', async () => {
  const completion = await client.chat.completions.create({ model: 'llama3.2', messages: ask('Hello from Node') });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.ok(completion.choices[0].message.content.length > 0);
  assert.equal(completion.choices[0].finish_reason, 'stop');
});

test('stream with include_usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'llama3.2', messages: ask('Stream from Node'), stream: true, stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.total_tokens > 0);
  const finishes = chunks.flatMap((c) => c.choices).map((c) => c.finish_reason).filter(Boolean);
  assert.deepEqual(finishes, ['stop']);
});

test('stream helper accumulates a tool call', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const runner = client.chat.completions.stream({ model: 'llama3.2', messages: ask('What is the weather in Paris?'), tools });
  const final = await runner.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', unit: 'celsius' });
});

test('unknown model is a NotFoundError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: ask('hi') }),
    (error) => error instanceof OpenAI.NotFoundError && error.code === 'model_not_found',
  );
});

test('invalid temperature is a BadRequestError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'llama3.2', messages: ask('hi'), temperature: 9 }),
    (error) => error instanceof OpenAI.BadRequestError && error.param === 'temperature',
  );
});

test('a mid-stream failure rejects the iteration', async () => {
  const stream = await client.chat.completions.create({ model: 'llama3.2', messages: ask('[fault:mid-stream-error]'), stream: true });
  await assert.rejects(async () => { for await (const _ of stream) { /* drain */ } }, /unexpectedly stopped/);
});
