// The official Node SDKs (`openai`, `@anthropic-ai/sdk`) against mock-ollama's exact flavour: one
// streamed Responses call and one streamed Messages call, each accumulated by its SDK.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
let mock;
let url;

before(async () => {
  mock = spawn(path.join(target, 'debug', 'mock-ollama'),
    ['--listen', '127.0.0.1:0', '--time-scale', '0', '--flavor', 'openai',
      '--fixtures', path.join(root, 'fixtures', 'scenarios')],
    { env: { ...process.env, RUST_LOG: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
  url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('mock-ollama did not report its address')), 30000);
    let seen = '';
    mock.stderr.on('data', (data) => {
      seen += data.toString();
      const match = seen.match(/listening on (http:\/\/\S+)/);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    });
    mock.on('exit', (code) => reject(new Error(`mock-ollama exited with ${code}: ${seen}`)));
  });
});

after(() => mock?.kill('SIGTERM'));

test('a streamed Responses call adds up to its final response', async () => {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const stream = client.responses.stream({ model: 'llama3.2', input: 'Stream from Node' });
  let text = '';
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta') text += event.delta;
  }
  const final = await stream.finalResponse();
  assert.equal(final.status, 'completed');
  assert.ok(text.length > 0);
  assert.equal(final.output_text, text);
});

test('a streamed Messages call adds up to its final message', async () => {
  const client = new Anthropic({ baseURL: url, apiKey: 'sk-ant-unused', maxRetries: 0 });
  const stream = client.messages.stream({
    model: 'llama3.2', max_tokens: 256, messages: [{ role: 'user', content: 'Stream from Node' }],
  });
  let text = '';
  stream.on('text', (delta) => { text += delta; });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'end_turn');
  assert.ok(text.length > 0);
  assert.equal(final.content[0].text, text);
});
